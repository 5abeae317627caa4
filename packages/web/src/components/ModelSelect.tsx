import MenuItem from '@mui/material/MenuItem'
import TextField from '@mui/material/TextField'
import { useQuery } from '@tanstack/react-query'
import { api, toApiError } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'

interface ModelSelectProps {
  /** '' means the endpoint's default model. */
  value: string
  onChange: (model: string) => void
}

export default function ModelSelect({ value, onChange }: ModelSelectProps) {
  const models = useQuery({ queryKey: queryKeys.models, queryFn: ({ signal }) => api.models(signal) })
  const served = models.data?.models ?? []
  const defaultModel = served.find((m) => m.default)?.name ?? models.data?.endpoint.default_model ?? null
  // A model in a shared URL that the endpoint no longer serves stays selectable so the URL is not rewritten behind the user's back.
  const names = served.map((m) => m.name)
  if (value && !names.includes(value)) names.push(value)

  let helperText = 'Which trained model ranks the movies'
  if (models.isPending) helperText = 'Loading models…'
  else if (models.error) helperText = `Models unavailable: ${toApiError(models.error).message}`

  return (
    <TextField
      select
      label="Model"
      value={value}
      onChange={(event) => onChange(event.target.value)}
      helperText={helperText}
      error={Boolean(models.error)}
      // The empty value is the endpoint's default model and must show as such.
      slotProps={{ select: { displayEmpty: true }, inputLabel: { shrink: true } }}
      sx={{ minWidth: 200, flex: 1 }}
    >
      <MenuItem value="">{defaultModel ? `Default (${defaultModel})` : 'Default'}</MenuItem>
      {names.map((name) => {
        const model = served.find((m) => m.name === name)
        return (
          <MenuItem key={name} value={name}>
            {name}
            {model?.version != null ? ` · v${model.version}` : ''}
            {model || !models.isSuccess ? '' : ' (not served)'}
          </MenuItem>
        )
      })}
    </TextField>
  )
}
