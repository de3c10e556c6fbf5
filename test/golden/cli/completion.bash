# lifeboat completion for bash: source <(lifeboat completion bash), or save it in /etc/bash_completion.d/lifeboat
_lifeboat() {
  local cur prev cmd opts words files i
  COMPREPLY=()
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "${COMP_WORDS[i]}" in -*) ;; *) cmd="${COMP_WORDS[i]}"; break ;; esac
  done
  if [[ -z "$cmd" ]]; then
    COMPREPLY=( $(compgen -W "validate schema runs log unlock drills plan run rehearse preflight report resume readiness kit list new completion --version" -- "$cur") )
    return 0
  fi
  if [[ "$prev" == "-i" || "$prev" == "--inventory" ]]; then
    COMPREPLY=( $(compgen -W "$(lifeboat __complete inventories 2>/dev/null)" -- "$cur") $(compgen -f -- "$cur") )
    return 0
  fi
  opts=""; words=""; files=""
  case "$cmd" in
    validate) opts="--format --strict --no-git --quiet -q --help"; words=""; files=1 ;;
    schema) opts="--help"; words="runbook inventory site common" ;;
    runs) opts="--json --limit --state-dir --help"; words="" ;;
    log) opts="--json --verbose -v --state-dir --help"; words="$(lifeboat __complete runs 2>/dev/null)" ;;
    unlock) opts="--yes -y --state-dir --help"; words="$(lifeboat __complete runbooks 2>/dev/null)" ;;
    drills) opts="--json --state-dir --help"; words=""; files=1 ;;
    plan) opts="--inventory -i --output -o --format --paper --templates --help"; words=""; files=1 ;;
    run) opts="--dry-run --format --list-steps --from --to --inventory -i --yes -y --yes-manual --answer --plain --verbose -v --state-dir --accept-new-host-keys --takeover --help"; words="$(lifeboat __complete runbooks 2>/dev/null)" ;;
    rehearse) opts="--junit --list-steps --from --to --inventory -i --yes -y --yes-manual --answer --plain --verbose -v --state-dir --accept-new-host-keys --takeover --help"; words="$(lifeboat __complete runbooks 2>/dev/null)" ;;
    preflight) opts="--inventory -i --yes -y --yes-manual --answer --plain --verbose -v --state-dir --accept-new-host-keys --takeover --help"; words="$(lifeboat __complete runbooks 2>/dev/null)" ;;
    report) opts="--output -o --format --paper --templates --state-dir --help"; words="$(lifeboat __complete runs 2>/dev/null)" ;;
    resume) opts="--yes -y --yes-manual --answer --accept-changed --in-doubt --force --plain --verbose -v --state-dir --accept-new-host-keys --help"; words="$(lifeboat __complete runs 2>/dev/null)" ;;
    readiness) opts="--inventory -i --junit --format --state-dir --help"; words=""; files=1 ;;
    kit) opts="--output -o --tar --inventory -i --state-dir --help"; words=""; files=1 ;;
    list) opts="--json --state-dir --help"; words="" ;;
    new) opts="--from --force --help"; words=""; files=1 ;;
    completion) opts="--help"; words="bash zsh fish" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  else
    COMPREPLY=( $(compgen -W "$words" -- "$cur") )
    [[ -n "$files" ]] && COMPREPLY+=( $(compgen -f -- "$cur") )
  fi
  return 0
}
complete -F _lifeboat lifeboat
