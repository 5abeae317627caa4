import ListItemText from '@mui/material/ListItemText'
import MenuItem from '@mui/material/MenuItem'
import TextField from '@mui/material/TextField'
import { useQuery } from '@tanstack/react-query'
import { api, toApiError } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'
import { modelLabel } from '../format.ts'

interface ModelSelectProps {
  /** '' means the endpoint's default model. */
  value: string
  onChange: (model: string) => void
}

/** One entry per served model; the default one is chosen by leaving the model out of the URL. */
export default function ModelSelect({ value, onChange }: ModelSelectProps) {
  const models = useQuery({ queryKey: queryKeys.models, queryFn: ({ signal }) => api.models(signal) })
  const served = models.data?.models ?? []
  const defaultModel = served.find((m) => m.default)?.name ?? models.data?.endpoint.default_model ?? null
  const selected = value || defaultModel || ''
  // A model in a shared URL that the endpoint does not serve stays shown, so the URL is not rewritten behind the user's back.
  const unknown = value && models.isSuccess && !served.some((m) => m.name === value) ? value : null

  let helperText = 'Which trained model ranks the movies'
  if (models.isPending) helperText = 'Loading models…'
  else if (models.error) helperText = `Models unavailable: ${toApiError(models.error).message}`
  else if (unknown) helperText = `“${unknown}” is not a served model`

  return (
    <TextField
      select
      label="Model"
      value={selected}
      onChange={(event) => onChange(event.target.value === defaultModel ? '' : event.target.value)}
      helperText={helperText}
      error={Boolean(models.error) || unknown !== null}
      // Before the models load (or when they fail) the empty value still reads as the default model.
      slotProps={{ select: { displayEmpty: true, renderValue: (name) => (name ? modelLabel(served.find((m) => m.name === String(name)) ?? { name: String(name) }) : 'Default model') }, inputLabel: { shrink: true } }}
      sx={{ minWidth: 200, flex: 1 }}
    >
      {defaultModel ? null : <MenuItem value="">Default model</MenuItem>}
      {served.map((model) => (
        <MenuItem key={model.name} value={model.name}>
          <ListItemText
            primary={`${modelLabel(model)}${model.default ? ' (default)' : ''}`}
            secondary={model.description || undefined}
            slotProps={{ secondary: { sx: { whiteSpace: 'normal' } } }}
          />
        </MenuItem>
      ))}
      {/* Until the models load (or when the URL names one that is not served) the chosen name is still an option. */}
      {selected && !served.some((m) => m.name === selected) ? (
        <MenuItem value={selected} disabled={unknown !== null}>
          {unknown ? `${unknown} (not served)` : selected}
        </MenuItem>
      ) : null}
    </TextField>
  )
}
