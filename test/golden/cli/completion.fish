# lifeboat completion for fish: lifeboat completion fish > ~/.config/fish/completions/lifeboat.fish
complete -c lifeboat -f
complete -c lifeboat -n "not __fish_seen_subcommand_from validate schema runs log unlock drills plan run rehearse preflight report resume readiness kit list new completion" -a "validate schema runs log unlock drills plan run rehearse preflight report resume readiness kit list new completion"
complete -c lifeboat -n "__fish_seen_subcommand_from validate" -l format
complete -c lifeboat -n "__fish_seen_subcommand_from validate" -l strict
complete -c lifeboat -n "__fish_seen_subcommand_from validate" -l no-git
complete -c lifeboat -n "__fish_seen_subcommand_from validate" -l quiet
complete -c lifeboat -n "__fish_seen_subcommand_from validate" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from schema" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from runs" -l json
complete -c lifeboat -n "__fish_seen_subcommand_from runs" -l limit
complete -c lifeboat -n "__fish_seen_subcommand_from runs" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from runs" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from log" -l json
complete -c lifeboat -n "__fish_seen_subcommand_from log" -l verbose
complete -c lifeboat -n "__fish_seen_subcommand_from log" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from log" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from log" -a "(lifeboat __complete runs 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from unlock" -l yes
complete -c lifeboat -n "__fish_seen_subcommand_from unlock" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from unlock" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from unlock" -a "(lifeboat __complete runbooks 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from drills" -l json
complete -c lifeboat -n "__fish_seen_subcommand_from drills" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from drills" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from plan" -l inventory
complete -c lifeboat -n "__fish_seen_subcommand_from plan" -l output
complete -c lifeboat -n "__fish_seen_subcommand_from plan" -l format
complete -c lifeboat -n "__fish_seen_subcommand_from plan" -l paper
complete -c lifeboat -n "__fish_seen_subcommand_from plan" -l templates
complete -c lifeboat -n "__fish_seen_subcommand_from plan" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from plan" -s i -l inventory -r -a "(lifeboat __complete inventories 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l dry-run
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l format
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l list-steps
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l from
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l to
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l inventory
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l yes
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l yes-manual
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l answer
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l plain
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l verbose
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l accept-new-host-keys
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l takeover
complete -c lifeboat -n "__fish_seen_subcommand_from run" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from run" -a "(lifeboat __complete runbooks 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from run" -s i -l inventory -r -a "(lifeboat __complete inventories 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l junit
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l list-steps
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l from
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l to
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l inventory
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l yes
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l yes-manual
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l answer
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l plain
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l verbose
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l accept-new-host-keys
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l takeover
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -a "(lifeboat __complete runbooks 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from rehearse" -s i -l inventory -r -a "(lifeboat __complete inventories 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l inventory
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l yes
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l yes-manual
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l answer
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l plain
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l verbose
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l accept-new-host-keys
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l takeover
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -a "(lifeboat __complete runbooks 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from preflight" -s i -l inventory -r -a "(lifeboat __complete inventories 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from report" -l output
complete -c lifeboat -n "__fish_seen_subcommand_from report" -l format
complete -c lifeboat -n "__fish_seen_subcommand_from report" -l paper
complete -c lifeboat -n "__fish_seen_subcommand_from report" -l templates
complete -c lifeboat -n "__fish_seen_subcommand_from report" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from report" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from report" -a "(lifeboat __complete runs 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l yes
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l yes-manual
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l answer
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l accept-changed
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l in-doubt
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l force
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l plain
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l verbose
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l accept-new-host-keys
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from resume" -a "(lifeboat __complete runs 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from readiness" -l inventory
complete -c lifeboat -n "__fish_seen_subcommand_from readiness" -l junit
complete -c lifeboat -n "__fish_seen_subcommand_from readiness" -l format
complete -c lifeboat -n "__fish_seen_subcommand_from readiness" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from readiness" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from readiness" -s i -l inventory -r -a "(lifeboat __complete inventories 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from kit" -l output
complete -c lifeboat -n "__fish_seen_subcommand_from kit" -l tar
complete -c lifeboat -n "__fish_seen_subcommand_from kit" -l inventory
complete -c lifeboat -n "__fish_seen_subcommand_from kit" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from kit" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from kit" -s i -l inventory -r -a "(lifeboat __complete inventories 2>/dev/null)"
complete -c lifeboat -n "__fish_seen_subcommand_from list" -l json
complete -c lifeboat -n "__fish_seen_subcommand_from list" -l state-dir
complete -c lifeboat -n "__fish_seen_subcommand_from list" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from new" -l from
complete -c lifeboat -n "__fish_seen_subcommand_from new" -l force
complete -c lifeboat -n "__fish_seen_subcommand_from new" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from completion" -l help
complete -c lifeboat -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"
complete -c lifeboat -n "__fish_seen_subcommand_from schema" -a "runbook inventory site common"
