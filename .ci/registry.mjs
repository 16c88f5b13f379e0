// A read-only npm registry on loopback that serves the tarballs in a folder, as a release
// publishes them: a project installs `cisterna` from it as users will from npmjs.org, with
// the main package's optionalDependencies resolved to the platform packages built beside it,
// and nothing fetched from anybody else's packages of the same names.
//
//   node .ci/registry.mjs <folder of .tgz>    prints its URL, serves until killed
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'

const folder = process.argv[2]
const packages = new Map()
for (const file of readdirSync(folder).filter((name) => name.endsWith('.tgz'))) {
  const tarball = readFileSync(join(folder, file))
  const manifest = JSON.parse(
    execFileSync('tar', ['-xzOf', join(folder, file), 'package/package.json'], { encoding: 'utf8' }),
  )
  packages.set(manifest.name, { file, tarball, manifest })
}

const server = createServer((request, response) => {
  const url = new URL(request.url, 'http://registry')
  const name = decodeURIComponent(url.pathname.slice(1))
  const tarballOf = [...packages.values()].find(({ file }) => url.pathname === `/-/${file}`)
  if (tarballOf) {
    response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarballOf.tarball)
    return
  }
  const found = packages.get(name)
  if (!found) {
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}')
    return
  }
  const { manifest, tarball, file } = found
  const dist = {
    tarball: `http://${request.headers.host}/-/${file}`,
    shasum: createHash('sha1').update(tarball).digest('hex'),
    integrity: `sha512-${createHash('sha512').update(tarball).digest('base64')}`,
  }
  const packument = {
    name,
    'dist-tags': { latest: manifest.version },
    versions: { [manifest.version]: { ...manifest, _id: `${name}@${manifest.version}`, dist } },
  }
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument))
})

server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}/`))
