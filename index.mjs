import cisterna from './index.js'

export const { Pool, move, isWorkerThread, workerData, version } = cisterna
export default cisterna
