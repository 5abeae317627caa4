import { createTheme } from '@mui/material/styles'

export const theme = createTheme({
  cssVariables: true,
  colorSchemes: {
    light: {
      palette: {
        primary: { main: '#4f46e5' },
        secondary: { main: '#db2777' },
        // Darker than MUI's defaults so white chip text passes WCAG AA contrast.
        warning: { main: '#b45309' },
        success: { main: '#15803d' },
        background: { default: '#f6f7fb', paper: '#ffffff' },
      },
    },
  },
  shape: { borderRadius: 12 },
  typography: {
    fontFamily: '"Inter", "Segoe UI", system-ui, -apple-system, "Helvetica Neue", Arial, sans-serif',
    h1: { fontSize: '2rem', fontWeight: 700, letterSpacing: '-0.02em' },
    h2: { fontSize: '1.25rem', fontWeight: 650 },
    h3: { fontSize: '1.05rem', fontWeight: 600 },
    button: { textTransform: 'none', fontWeight: 600 },
  },
  components: {
    // Keyboard focus is always visible, on every control, not only where MUI draws a ripple.
    MuiCssBaseline: {
      styleOverrides: {
        ':focus-visible': { outline: '3px solid #4f46e5', outlineOffset: 2 },
        '.MuiInputBase-root:focus-within': { outline: 'none' },
      },
    },
    // Popups float above the page (the app's other papers are flat).
    MuiAutocomplete: { styleOverrides: { paper: { boxShadow: '0 10px 30px rgba(15, 23, 42, 0.18), 0 2px 6px rgba(15, 23, 42, 0.12)', border: '1px solid rgba(15, 23, 42, 0.12)' } } },
    // 44 px is the smallest target a finger hits reliably (WCAG 2.5.5).
    MuiButton: { styleOverrides: { root: { minHeight: 44 } } },
    MuiIconButton: { styleOverrides: { root: { minWidth: 44, minHeight: 44 } } },
    MuiPaper: { defaultProps: { elevation: 0 }, styleOverrides: { root: { backgroundImage: 'none' } } },
    MuiCard: { styleOverrides: { root: { border: '1px solid rgba(15, 23, 42, 0.08)' } } },
    MuiTableCell: { styleOverrides: { head: { fontWeight: 600 } } },
  },
})
