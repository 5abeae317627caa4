import Box from '@mui/material/Box'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import useMediaQuery from '@mui/material/useMediaQuery'
import { useTheme } from '@mui/material/styles'
import { useId } from 'react'
import { formatMetric } from '../format.ts'

export interface ChartSeries {
  name: string
  /** One value per group label. */
  values: Record<string, number>
  highlight?: boolean
}

interface MetricsChartProps {
  title: string
  /** Labels along the x axis, e.g. metric names or registry versions. */
  groups: readonly string[]
  series: readonly ChartSeries[]
}

const COLORS = ['#4f46e5', '#db2777', '#0891b2', '#65a30d', '#ea580c', '#7c3aed']
const HEIGHT = 280
const MARGIN = { top: 16, right: 8, bottom: 36, left: 40 }

/** Grouped bars, one bar per series in each group; a plain SVG keeps the bundle small. */
export default function MetricsChart({ title, groups, series }: MetricsChartProps) {
  const titleId = useId()
  const descId = useId()
  // A narrower drawing on phones keeps the axis labels readable once scaled to the screen.
  const phone = useMediaQuery(useTheme().breakpoints.down('sm'))
  const width = phone ? 420 : 720
  const values = series.flatMap((s) => groups.map((m) => s.values[m] ?? 0))
  const top = Math.max(0.05, ...values)
  // Round the axis up to a tidy step so the gridlines read as 0.1, 0.2, ...
  const step = top > 0.5 ? 0.2 : top > 0.2 ? 0.1 : 0.05
  const axisMax = Math.ceil(top / step) * step
  const plotWidth = width - MARGIN.left - MARGIN.right
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom
  const groupWidth = plotWidth / Math.max(1, groups.length)
  const barWidth = Math.min(28, (groupWidth * 0.8) / Math.max(1, series.length))
  const y = (value: number) => MARGIN.top + plotHeight - (value / axisMax) * plotHeight
  const ticks = Array.from({ length: Math.round(axisMax / step) + 1 }, (_, i) => i * step)
  const description = series
    .map((s) => `${s.name}: ${groups.map((m) => `${m} ${formatMetric(s.values[m])}`).join(', ')}`)
    .join('. ')

  return (
    <Box component="figure" sx={{ m: 0, maxWidth: 880, mx: 'auto' }}>
      <Typography component="figcaption" variant="subtitle2" color="text.secondary" aria-hidden sx={{ mb: 1 }}>
        {title}
      </Typography>
      <Box
        component="svg"
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        sx={{ width: '100%', height: 'auto', display: 'block', fontFamily: 'inherit' }}
      >
        <title id={titleId}>{title}</title>
        <desc id={descId}>{description}</desc>
        {ticks.map((tick) => (
          <g key={tick}>
            <line x1={MARGIN.left} x2={width - MARGIN.right} y1={y(tick)} y2={y(tick)} stroke="#e2e8f0" />
            <text x={MARGIN.left - 6} y={y(tick) + 4} textAnchor="end" fontSize="11" fill="#64748b">
              {tick.toFixed(2)}
            </text>
          </g>
        ))}
        {groups.map((group, g) => {
          const groupX = MARGIN.left + g * groupWidth + (groupWidth - barWidth * series.length) / 2
          return (
            <g key={group}>
              {series.map((s, i) => {
                const value = s.values[group] ?? 0
                return (
                  <rect
                    key={s.name}
                    x={groupX + i * barWidth + 1}
                    y={y(value)}
                    width={barWidth - 2}
                    height={Math.max(0, MARGIN.top + plotHeight - y(value))}
                    rx={3}
                    fill={COLORS[i % COLORS.length]}
                    opacity={s.highlight || !series.some((x) => x.highlight) ? 1 : 0.55}
                  >
                    <title>{`${s.name} ${group}: ${formatMetric(s.values[group])}`}</title>
                  </rect>
                )
              })}
              <text x={MARGIN.left + g * groupWidth + groupWidth / 2} y={HEIGHT - 12} textAnchor="middle" fontSize="12" fill="#334155">
                {group}
              </text>
            </g>
          )
        })}
      </Box>
      <Stack component="ul" direction="row" useFlexGap aria-label="Legend" sx={{ flexWrap: 'wrap', gap: 2, listStyle: 'none', p: 0, m: 0, mt: 1 }}>
        {series.map((s, i) => (
          <Stack component="li" key={s.name} direction="row" spacing={0.75} sx={{ alignItems: 'center' }}>
            <Box aria-hidden sx={{ width: 12, height: 12, borderRadius: 0.5, bgcolor: COLORS[i % COLORS.length] }} />
            <Typography variant="body2" sx={{ fontWeight: s.highlight ? 700 : 400 }}>
              {s.name}
              {s.highlight ? ' (served by default)' : ''}
            </Typography>
          </Stack>
        ))}
      </Stack>
    </Box>
  )
}
