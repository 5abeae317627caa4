"""Shell completion for ``recs``, generated from its argparse parser (``recs completion``).

The bash function completes command names, options and option choices at every level
(``recs models list --status <TAB>``) and falls back to file names; zsh loads it through
``bashcompinit``.
"""

from __future__ import annotations

import argparse
import shlex

SHELLS = ("bash", "zsh")


def command_tree(parser: argparse.ArgumentParser) -> dict[str, dict[str, object]]:
    """Per command path ("" for ``recs``, "models list", ...): sub-commands, options and the
    choices of options that have them."""
    tree: dict[str, dict[str, object]] = {}

    def walk(path: str, node: argparse.ArgumentParser) -> None:
        subcommands: list[str] = []
        options: list[str] = []
        choices: dict[str, list[str]] = {}
        for action in node._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    subcommands.append(name)
                    walk(f"{path} {name}".strip(), child)
            elif action.option_strings:
                options.extend(action.option_strings)
                if action.choices is not None:
                    for option in action.option_strings:
                        choices[option] = [str(c) for c in action.choices]
        tree[path] = {"subcommands": subcommands, "options": options, "choices": choices}

    walk("", parser)
    return tree


def _assoc(name: str, entries: dict[str, str]) -> str:
    pairs = " ".join(f"[{shlex.quote(key)}]={shlex.quote(value)}" for key, value in entries.items())
    return f"  local -A {name}=({pairs})"


def bash_script(parser: argparse.ArgumentParser, prog: str = "recs") -> str:
    # Keys start with the program name: bash refuses an empty associative-array key.
    tree = {f"{prog} {path}".strip(): node for path, node in command_tree(parser).items()}
    subs = {path: " ".join(node["subcommands"]) for path, node in tree.items()}  # type: ignore[arg-type]
    opts = {path: " ".join(node["options"]) for path, node in tree.items()}  # type: ignore[arg-type]
    choices = {
        f"{path} {option}": " ".join(values)
        for path, node in tree.items()
        for option, values in node["choices"].items()  # type: ignore[attr-defined]
    }
    function = "_" + prog.replace("-", "_") + "_complete"
    return "\n".join(
        [
            f"# {prog} shell completion (bash; zsh through bashcompinit)",
            f"{function}() {{",
            _assoc("subs", subs),
            _assoc("opts", opts),
            _assoc("choices", choices),
            '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"',
            f'  local path="{prog}" word i',
            "  for ((i = 1; i < COMP_CWORD; i++)); do",
            '    word="${COMP_WORDS[i]}"',
            '    if [[ " ${subs[$path]} " == *" $word "* ]]; then path="$path $word"; fi',
            "  done",
            '  local key="$path $prev"',
            '  if [[ -n "${choices[$key]+set}" ]]; then',
            '    COMPREPLY=($(compgen -W "${choices[$key]}" -- "$cur")); return 0',
            "  fi",
            '  if [[ "$cur" == -* ]]; then',
            '    COMPREPLY=($(compgen -W "${opts[$path]}" -- "$cur")); return 0',
            "  fi",
            '  COMPREPLY=($(compgen -W "${subs[$path]}" -- "$cur"))',
            "}",
            f"complete -o default -F {function} {prog}",
            "",
        ]
    )


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    if shell == "bash":
        return bash_script(parser)
    if shell == "zsh":
        return "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(parser)
    raise ValueError(f"no completion for shell {shell!r}; use one of {', '.join(SHELLS)}")
