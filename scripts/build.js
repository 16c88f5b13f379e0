'use strict'
// Builds the addon with the napi CLI (arguments are passed on, e.g. --release). A build from
// source is for the machine it runs on: where that is a Linux x64 CPU with the x86-64-v3
// features (AVX2, BMI2, FMA: Intel Haswell, AMD Excavator and later), the bundled C libraries
// are compiled for them; libjpeg-turbo's Huffman decoder, most of a JPEG resize, is ~5 %
// faster with BMI2's shifts. CISTERNA_PORTABLE=1 builds for any x86-64 instead, for a binary
// that moves to other machines.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const X86_64_V3_FLAGS = ['popcnt', 'avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave']

function cpuFlags() {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)
    return new Set(line ? line[1].trim().split(/\s+/) : [])
  } catch {
    return new Set()
  }
}

function hostIsX8664V3() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false
  const flags = cpuFlags()
  return X86_64_V3_FLAGS.every((flag) => flags.has(flag))
}

const env = { ...process.env }
if (!env.CISTERNA_PORTABLE && hostIsX8664V3()) {
  // The features one by one rather than -march=x86-64-v3, which compilers before GCC 11 and
  // Clang 12 do not know.
  env.CFLAGS = [env.CFLAGS, '-mpopcnt -mavx -mavx2 -mbmi -mbmi2 -mf16c -mfma -mlzcnt -mmovbe -mxsave'].filter(Boolean).join(' ')
  console.log('cisterna: C libraries built for x86-64-v3, as this CPU has it (CISTERNA_PORTABLE=1 for any x86-64)')
}

const args = ['build', '--platform', '--js', 'binding.js', '--dts', 'binding.d.ts', ...process.argv.slice(2)]
try {
  // Run through npm (`npm run build`), whose PATH holds the napi CLI from node_modules/.bin.
  execFileSync('napi', args, { cwd: path.join(__dirname, '..'), env, stdio: 'inherit' })
} catch (error) {
  process.exit(typeof error.status === 'number' ? error.status : 1)
}
