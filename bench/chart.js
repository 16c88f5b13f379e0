'use strict'
// bench/ratios.svg: every ratio `npm run bench` printed, as bars against its anchor.

/** Horizontal bars on a log scale from 0.5× to 50×, with a line at 1× (level). */
function chart(rows) {
  const escapeXml = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;')
  const [left, barWidth, rowHeight, top] = [480, 360, 22, 34]
  const x = (ratio) => left + (barWidth * (Math.log10(Math.min(Math.max(ratio, 0.5), 50)) + Math.log10(2))) / 2
  const bars = rows.map(({ name, anchorName, ratio }, i) => {
    const y = top + i * rowHeight
    const [from, to] = [x(1), x(ratio)].sort((a, b) => a - b)
    const colour = ratio >= 1 ? '#2f7d4f' : '#b5562d'
    return [
      `<text x="${left - 8}" y="${y + 14}" text-anchor="end">${escapeXml(`${name} vs ${anchorName}`)}</text>`,
      `<rect x="${from}" y="${y + 3}" width="${Math.max(1, to - from)}" height="${rowHeight - 8}" fill="${colour}"/>`,
      `<text x="${Math.max(from, to) + 6}" y="${y + 14}">${ratio.toFixed(2)}×</text>`,
    ].join('')
  })
  const height = top + rows.length * rowHeight + 10
  const ticks = [0.5, 1, 2, 5, 10, 20, 50].map(
    (tick) =>
      `<line x1="${x(tick)}" y1="${top - 4}" x2="${x(tick)}" y2="${height - 8}" stroke="${tick === 1 ? '#333' : '#ddd'}"/>` +
      `<text x="${x(tick)}" y="${top - 10}" text-anchor="middle">${tick}×</text>`,
  )
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${left + barWidth + 60}" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${ticks.join('\n')}
${bars.join('\n')}
</svg>
`
}

module.exports = { chart }
