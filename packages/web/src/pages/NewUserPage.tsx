import Alert from '@mui/material/Alert'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import MenuItem from '@mui/material/MenuItem'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import { useMutation, useQueryClient } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'
import { useNavigate } from 'react-router'
import { api, toApiError, type UserCreate } from '../api/client.ts'
import { saveToken } from '../api/tokens.ts'

type Occupation = NonNullable<UserCreate['occupation']>
type Gender = NonNullable<UserCreate['gender']>

// The values the API accepts (its OpenAPI enum); `satisfies` fails the build if they drift apart.
const OCCUPATIONS = [
  'administrator', 'artist', 'doctor', 'educator', 'engineer', 'entertainment', 'executive', 'healthcare', 'homemaker', 'lawyer',
  'librarian', 'marketing', 'none', 'other', 'programmer', 'retired', 'salesman', 'scientist', 'student', 'technician', 'writer',
] as const satisfies readonly Occupation[]
const GENDERS = [
  ['F', 'Female'],
  ['M', 'Male'],
] as const satisfies readonly (readonly [Gender, string])[]

// Selects show "Not given" for the empty value instead of an empty box.
const notGivenShows = { select: { displayEmpty: true }, inputLabel: { shrink: true } } as const

/** The age error to show, or null when the field is empty or a whole number from 1 to 120. */
function ageProblem(age: string): string | null {
  if (age.trim() === '') return null
  if (!/^\d+$/.test(age.trim())) return 'Age must be a whole number of years.'
  const years = Number(age)
  return years >= 1 && years <= 120 ? null : 'Age must be between 1 and 120.'
}

export default function NewUserPage() {
  const navigate = useNavigate()
  const queryClient = useQueryClient()
  const [age, setAge] = useState('')
  const [gender, setGender] = useState<Gender | ''>('')
  const [occupation, setOccupation] = useState<Occupation | ''>('')
  const [touched, setTouched] = useState(false)
  const create = useMutation({
    mutationFn: (body: UserCreate) => api.createUser(body),
    onSuccess: ({ token, ...user }) => {
      // The API shows the token only now: keep it, or nobody can rate as this user again.
      saveToken(user.user_id, token)
      void queryClient.invalidateQueries({ queryKey: ['users'] })
      queryClient.setQueryData(['user', user.user_id], user)
      navigate(`/users/${user.user_id}`, { state: { created: true } })
    },
  })
  const problem = ageProblem(age)

  function submit(event: FormEvent) {
    event.preventDefault()
    setTouched(true)
    if (problem) return
    const body: UserCreate = {}
    if (age.trim()) body.age = Number(age)
    if (gender) body.gender = gender
    if (occupation) body.occupation = occupation
    create.mutate(body)
  }

  return (
    <Stack spacing={3} sx={{ maxWidth: 560, mx: 'auto' }}>
      <Box>
        <Typography variant="h1" gutterBottom>
          New user
        </Typography>
        <Typography color="text.secondary">
          Every field is optional. After creating the user you rate a few movies and the recommendations follow each rating. The user
          is private: only this browser, which keeps the user's token, can see its ratings and rate as it.
        </Typography>
      </Box>
      <Card>
        <CardContent>
          <Stack component="form" spacing={2.5} onSubmit={submit} noValidate aria-label="New user">
            <TextField
              label="Age"
              value={age}
              onChange={(event) => setAge(event.target.value)}
              onBlur={() => setTouched(true)}
              error={touched && problem !== null}
              helperText={(touched && problem) || 'Optional, in years'}
              placeholder="Not given"
              slotProps={{ htmlInput: { inputMode: 'numeric' }, inputLabel: { shrink: true } }}
            />
            <TextField select label="Gender" value={gender} onChange={(event) => setGender(event.target.value as Gender | '')}
              helperText="Optional"
              slotProps={notGivenShows}
            >
              <MenuItem value="">Not given</MenuItem>
              {GENDERS.map(([value, label]) => (
                <MenuItem key={value} value={value}>
                  {label}
                </MenuItem>
              ))}
            </TextField>
            <TextField
              select
              label="Occupation"
              value={occupation}
              onChange={(event) => setOccupation(event.target.value as Occupation | '')}
              helperText="Optional"
              slotProps={notGivenShows}
            >
              <MenuItem value="">Not given</MenuItem>
              {OCCUPATIONS.map((value) => (
                <MenuItem key={value} value={value}>
                  {value}
                </MenuItem>
              ))}
            </TextField>
            {create.error ? (
              <Alert severity="error" role="alert">
                {toApiError(create.error).kind === 'unreachable'
                  ? `${toApiError(create.error).message} Check that it is running, then try again.`
                  : `Could not create the user: ${toApiError(create.error).message}`}
              </Alert>
            ) : null}
            <Button type="submit" variant="contained" size="large" disabled={create.isPending}>
              {create.isPending ? 'Creating…' : 'Create user'}
            </Button>
          </Stack>
        </CardContent>
      </Card>
    </Stack>
  )
}
