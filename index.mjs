import cisterna from './index.js'

export const { Pool } = cisterna
export default cisterna
