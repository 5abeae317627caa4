import AppBar from '@mui/material/AppBar'
import Box from '@mui/material/Box'
import Button from '@mui/material/Button'
import Container from '@mui/material/Container'
import Toolbar from '@mui/material/Toolbar'
import Typography from '@mui/material/Typography'
import MovieFilterIcon from '@mui/icons-material/MovieFilter'
import PersonAddIcon from '@mui/icons-material/PersonAdd'
import { Link as RouterLink, useLocation } from 'react-router'

function navButtonSx(active: boolean) {
  const compact = { px: { xs: 1, sm: 1.5 }, minWidth: 0, fontSize: { xs: '0.8125rem', sm: '0.875rem' } }
  return active ? { ...compact, color: 'primary.main', bgcolor: 'action.selected' } : { ...compact, color: 'text.secondary' }
}

export default function AppHeader() {
  const { pathname } = useLocation()
  const onRecommendations = pathname === '/' || pathname.startsWith('/users/')
  const onModels = pathname.startsWith('/models')
  return (
    <AppBar position="sticky" color="inherit" elevation={0} sx={{ borderBottom: 1, borderColor: 'divider', bgcolor: 'background.paper' }}>
      <Container maxWidth="lg" disableGutters>
        <Toolbar sx={{ gap: { xs: 0.5, sm: 1 }, px: { xs: 1.5, sm: 3 } }}>
          <Box
            component={RouterLink}
            to="/"
            aria-label="Reel Recs home"
            sx={{ display: 'flex', alignItems: 'center', gap: 1, color: 'text.primary', textDecoration: 'none', mr: { xs: 0.5, sm: 2 } }}
          >
            <MovieFilterIcon color="primary" aria-hidden />
            <Typography component="span" sx={{ fontWeight: 800, letterSpacing: '-0.02em', display: { xs: 'none', sm: 'inline' } }}>
              Reel Recs
            </Typography>
          </Box>
          <Box component="nav" aria-label="Main" sx={{ display: 'flex', gap: { xs: 0, sm: 0.5 }, flexGrow: 1 }}>
            <Button component={RouterLink} to="/" sx={navButtonSx(onRecommendations)} aria-current={onRecommendations ? 'page' : undefined}>
              Recommendations
            </Button>
            <Button component={RouterLink} to="/models" sx={navButtonSx(onModels)} aria-current={onModels ? 'page' : undefined}>
              Models
            </Button>
          </Box>
          <Button
            component={RouterLink}
            to="/new-user"
            variant="contained"
            startIcon={<PersonAddIcon />}
            sx={{ whiteSpace: 'nowrap', px: { xs: 1.25, sm: 2 }, fontSize: { xs: '0.8125rem', sm: '0.875rem' }, '& .MuiButton-startIcon': { display: { xs: 'none', sm: 'inherit' } } }}
          >
            New user
          </Button>
        </Toolbar>
      </Container>
    </AppBar>
  )
}
