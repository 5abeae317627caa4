import Alert from '@mui/material/Alert'
import Button from '@mui/material/Button'
import Card from '@mui/material/Card'
import CardContent from '@mui/material/CardContent'
import List from '@mui/material/List'
import ListItem from '@mui/material/ListItem'
import ListItemText from '@mui/material/ListItemText'
import Stack from '@mui/material/Stack'
import TextField from '@mui/material/TextField'
import Typography from '@mui/material/Typography'
import { useState, type FormEvent } from 'react'
import { Link as RouterLink } from 'react-router'
import { forgetToken, parseToken, saveToken, useSavedUsers } from '../api/tokens.ts'

/** The users this browser created: continue as one, copy its token to another device, or forget it. */
export default function SavedUsersCard() {
  const users = useSavedUsers()
  const [pasted, setPasted] = useState('')
  const [problem, setProblem] = useState<string | null>(null)
  const [copied, setCopied] = useState<number | null>(null)

  function add(event: FormEvent) {
    event.preventDefault()
    const parsed = parseToken(pasted)
    if (!parsed) {
      setProblem('That is not a user token: it looks like “944.” followed by about 43 letters, digits, - and _.')
      return
    }
    saveToken(parsed.userId, parsed.token)
    setPasted('')
    setProblem(null)
  }

  async function copy(userId: number, token: string) {
    try {
      await navigator.clipboard.writeText(token)
      setCopied(userId)
    } catch {
      setProblem('The browser refused to copy; select the token in the box below instead.')
      setPasted(token)
    }
  }

  return (
    <Card component="section" aria-label="Your users">
      <CardContent>
        <Typography variant="h2" gutterBottom>
          Your users
        </Typography>
        <Typography color="text.secondary" sx={{ mb: 1 }}>
          A user you create is private. Its token, kept only in this browser, is what lets you rate as that user and see its ratings;
          nobody else can. Copy the token to use the user on another device, and keep it like a password.
        </Typography>
        {users.length === 0 ? (
          <Typography color="text.secondary">This browser holds no user token yet.</Typography>
        ) : (
          <List aria-label="Users this browser holds tokens for">
            {users.map(({ userId, token }) => (
              <ListItem key={userId} disableGutters divider>
                <ListItemText primary={`User ${userId}`} secondary={copied === userId ? 'Token copied' : null} />
                <Stack direction="row" spacing={1}>
                  <Button component={RouterLink} to={`/users/${userId}`} variant="contained" size="small">
                    Continue as user {userId}
                  </Button>
                  <Button size="small" onClick={() => void copy(userId, token)} aria-label={`Copy the token of user ${userId}`}>
                    Copy token
                  </Button>
                  <Button size="small" color="warning" onClick={() => forgetToken(userId)} aria-label={`Forget user ${userId}`}>
                    Forget
                  </Button>
                </Stack>
              </ListItem>
            ))}
          </List>
        )}
        <Stack component="form" direction={{ xs: 'column', sm: 'row' }} spacing={1} sx={{ mt: 2 }} onSubmit={add} aria-label="Add a user token">
          <TextField
            label="Token from another device"
            value={pasted}
            onChange={(event) => setPasted(event.target.value)}
            size="small"
            fullWidth
            slotProps={{ htmlInput: { autoComplete: 'off', spellCheck: false } }}
          />
          <Button type="submit" variant="outlined">
            Add
          </Button>
        </Stack>
        {problem ? (
          <Alert severity="warning" sx={{ mt: 1 }}>
            {problem}
          </Alert>
        ) : null}
      </CardContent>
    </Card>
  )
}
