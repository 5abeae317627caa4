import Box from '@mui/material/Box'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import CardHeader from '@mui/material/CardHeader'
import Chip from '@mui/material/Chip'
import Stack from '@mui/material/Stack'
import Typography from '@mui/material/Typography'
import Inventory2Icon from '@mui/icons-material/Inventory2'
import { useQuery } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { api, type Models } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'
import EmptyState from '../components/EmptyState.tsx'
import ErrorState from '../components/ErrorState.tsx'
import LoadingState from '../components/LoadingState.tsx'
import MetricsChart from '../components/MetricsChart.tsx'
import RegistryVersionsTable from '../components/RegistryVersionsTable.tsx'
import ServedModelsTable from '../components/ServedModelsTable.tsx'
import { METRIC_NAMES, metricsByModel, modelLabel, splitLabel } from '../format.ts'

function Section({ id, title, subheader, children }: { id: string; title: string; subheader?: string; children: ReactNode }) {
  return (
    <Card component="section" aria-labelledby={id}>
      <CardHeader title={title} subheader={subheader} slotProps={{ title: { id, component: 'h2', variant: 'h2' } }} />
      <CardContent sx={{ pt: 0, px: { xs: 1, sm: 2 } }}>{children}</CardContent>
    </Card>
  )
}

function ModelsOverview({ data }: { data: Models }) {
  const defaultModel = data.models.find((m) => m.default)?.name ?? data.endpoint.default_model
  const modelNames = data.models.map((m) => m.name)
  // Versions newest first; the chart reads oldest to newest, left to right.
  const versions = [...data.versions].sort((a, b) => b.version - a.version)
  const versionModels = Array.from(new Set([...modelNames, ...versions.flatMap((v) => Object.keys(metricsByModel(v.metrics)))]))
  const chronological = [...versions].reverse()
  const labelOf = (name: string) => modelLabel(data.models.find((m) => m.name === name) ?? { name })
  const splits = new Set(data.models.map((m) => m.metrics_split ?? null))
  const servedSplit = splits.size === 1 ? splitLabel([...splits][0]) : 'split named in each row'
  return (
    <Stack spacing={3}>
      <Section id="served-models-title" title="Served models" subheader={`What the endpoint can answer with now; figures measured on the ${servedSplit}`}>
        {data.models.length ? (
          <ServedModelsTable models={data.models} />
        ) : (
          <EmptyState title="The endpoint serves no model">Approve a registry version to deploy it.</EmptyState>
        )}
      </Section>
      {data.models.length ? (
        <Section id="compare-title" title="Compared with the baselines" subheader={`Higher is better; the baselines are computed on the same split (${servedSplit})`}>
          <MetricsChart
            title="Metrics by model"
            groups={METRIC_NAMES}
            series={data.models.map((m) => ({ name: modelLabel(m), values: m.metrics, highlight: m.default }))}
          />
        </Section>
      ) : null}
      <Section id="versions-title" title="Registry versions" subheader={`Model package group ${data.group}`}>
        {versions.length ? (
          <Stack spacing={3}>
            <RegistryVersionsTable versions={versions} models={versionModels} labelOf={labelOf} />
            {chronological.length > 1 ? (
              <MetricsChart
                title="NDCG@10 by registry version"
                groups={chronological.map((v) => `v${v.version}`)}
                series={versionModels.map((name) => ({
                  name: labelOf(name),
                  highlight: name === defaultModel,
                  values: Object.fromEntries(
                    chronological.map((v) => [`v${v.version}`, metricsByModel(v.metrics)[name]?.['ndcg@10'] ?? 0]),
                  ),
                }))}
              />
            ) : null}
          </Stack>
        ) : (
          <EmptyState title="No model registered yet" icon={<Inventory2Icon />}>
            Run the training pipeline (<code>recs pipeline run</code>), then approve the version it registers.
          </EmptyState>
        )}
      </Section>
    </Stack>
  )
}

export default function ModelsPage() {
  const models = useQuery({ queryKey: queryKeys.models, queryFn: ({ signal }) => api.models(signal) })
  const endpoint = models.data?.endpoint
  return (
    <Stack spacing={3}>
      <Box>
        <Typography variant="h1" gutterBottom>
          Models
        </Typography>
        <Typography color="text.secondary">Every registered version, its approval status and how it scores against the baselines.</Typography>
        {endpoint ? (
          <Stack direction="row" spacing={1} sx={{ mt: 1.5, flexWrap: 'wrap' }} useFlexGap>
            <Chip
              size="small"
              color={endpoint.status === 'ok' ? 'success' : 'warning'}
              label={endpoint.status === 'ok' ? 'Endpoint up' : 'Endpoint unavailable'}
            />
            {endpoint.version != null ? <Chip size="small" variant="outlined" label={`Serving version ${endpoint.version}`} /> : null}
            {endpoint.default_model ? <Chip size="small" variant="outlined" label={`Default model ${modelLabel(models.data?.models.find((m) => m.name === endpoint.default_model) ?? { name: endpoint.default_model })}`} /> : null}
          </Stack>
        ) : null}
      </Box>
      {models.isPending ? (
        <LoadingState label="Loading models…" />
      ) : models.error ? (
        <ErrorState error={models.error} what="models" onRetry={() => void models.refetch()} />
      ) : (
        <ModelsOverview data={models.data} />
      )}
    </Stack>
  )
}
