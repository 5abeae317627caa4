import Autocomplete from '@mui/material/Autocomplete'
import Box from '@mui/material/Box'
import CircularProgress from '@mui/material/CircularProgress'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import { keepPreviousData, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { api, toApiError, type UserSummary } from '../api/client.ts'
import { queryKeys } from '../api/queryKeys.ts'
import { describeUser } from '../format.ts'
import { useDebouncedValue } from '../hooks/useDebouncedValue.ts'

interface UserPickerProps {
  value: UserSummary | null
  onChange: (user: UserSummary | null) => void
}

export default function UserPicker({ value, onChange }: UserPickerProps) {
  const [input, setInput] = useState('')
  const [search, setSearch] = useState('')
  const [open, setOpen] = useState(false)
  const query = useDebouncedValue(search.trim())
  const users = useQuery({
    queryKey: queryKeys.users(query),
    queryFn: ({ signal }) => api.listUsers(query, 20, signal),
    enabled: open,
    placeholderData: keepPreviousData,
  })
  const options = users.data?.users ?? []
  const error = users.error ? toApiError(users.error).message : null

  return (
    <Autocomplete
      open={open}
      onOpen={() => setOpen(true)}
      onClose={() => setOpen(false)}
      value={value}
      onChange={(_, user) => onChange(user)}
      inputValue={input}
      onInputChange={(_, text, reason) => {
        setInput(text)
        // Showing the chosen user's label in the box must not start a search for "User 3".
        setSearch(reason === 'input' ? text : '')
      }}
      // The chosen user stays among non-empty results (MUI requires the value to be an option); an empty search still says so.
      options={value && options.length > 0 && !options.some((u) => u.user_id === value.user_id) ? [value, ...options] : options}
      filterOptions={(all) => all}
      getOptionLabel={(user) => `User ${user.user_id}`}
      isOptionEqualToValue={(a, b) => a.user_id === b.user_id}
      loading={users.isFetching}
      loadingText="Searching users…"
      noOptionsText={error ?? (query ? `No user matches “${query}”` : 'No users yet')}
      renderOption={({ key, ...props }, user) => (
        <Box component="li" key={key} {...props} sx={{ display: 'block !important' }}>
          <Typography component="span" sx={{ fontWeight: 600 }}>
            User {user.user_id}
          </Typography>
          <Typography component="span" variant="body2" color="text.secondary" sx={{ display: 'block' }}>
            {describeUser(user)} · {user.ratings_count} ratings
          </Typography>
        </Box>
      )}
      renderInput={(params) => (
        <TextField
          {...params}
          label="User"
          placeholder="Search by id or occupation"
          helperText={value ? describeUser(value) : 'Type a user id or an occupation'}
          slotProps={{
            ...params.slotProps,
            input: {
              ...params.slotProps.input,
              endAdornment: (
                <>
                  {users.isFetching ? <CircularProgress color="inherit" size={18} aria-hidden /> : null}
                  {params.slotProps.input.endAdornment}
                </>
              ),
            },
          }}
        />
      )}
      sx={{ minWidth: { sm: 320 }, flex: 2 }}
    />
  )
}
