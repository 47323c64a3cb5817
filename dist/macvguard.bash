# bash completion for macvguard(8)                           -*- shell-script -*-
# Installed as /usr/share/bash-completion/completions/macvguard (make install);
# bash-completion loads it the first time `macvguard` is completed.

_macvguard_links()
{
    # guarded links from the pinned state (quietly nothing without permission)
    macvguard -j links 2>/dev/null | tr ',' '\n' | sed -n 's/^.*"ifname":"\([^"]*\)".*$/\1/p'
}

_macvguard()
{
    local cur prev words cword
    _init_completion || return

    local globals="-j --json -p --pretty -v --verbose -w --wide --journal-dir -V --version -h --help"
    local commands="run stop status mode tag untag release links monitor probes xml journal postmortem hook version help"

    # the command word: the first word after the global options (and their values)
    local i cmd="" sub="" cmdi=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --journal-dir) ((i++)) ;;
            -*) ;;
            *)
                if [[ -z $cmd ]]; then
                    cmd=${words[i]}; cmdi=$i
                elif [[ -z $sub && ( $cmd == xml || $cmd == hook || $cmd == help ) ]]; then
                    sub=${words[i]}
                fi
                ;;
        esac
    done

    if [[ -z $cmd ]]; then
        case $prev in
            --journal-dir) _filedir -d; return ;;
        esac
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$globals" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi
        return
    fi

    # values of options
    case $prev in
        --mode)
            [[ $cmd == run ]] && { COMPREPLY=($(compgen -W "enforce audit" -- "$cur")); return; }
            [[ $cmd == xml ]] && { COMPREPLY=($(compgen -W "inactive migratable live" -- "$cur")); return; }
            ;;
        --verdict)
            COMPREPLY=($(compgen -W "none allow deny audit gone" -- "$cur")); return ;;
        --kind)
            COMPREPLY=($(compgen -W "macvtap macvlan veth tun tap" -- "$cur")); return ;;
        --type)
            COMPREPLY=($(compgen -W "verdict hook tag untag release agent lost link mode" -- "$cur")); return ;;
        --source)
            COMPREPLY=($(compgen -W "manual hook status-file" -- "$cur")); return ;;
        --netns)
            COMPREPLY=($(compgen -W "$(ip netns list 2>/dev/null | cut -d' ' -f1)" -- "$cur")); return ;;
        --ifname)
            COMPREPLY=($(compgen -W "$(_macvguard_links)" -- "$cur")); return ;;
        --config | --html | --binary)
            _filedir; return ;;
        --status-dir | --hooks-dir | --journal-dir | --dir)
            _filedir -d; return ;;
        --domain | --uuid | --pid | --since | --until | --prefix | --max-size | --max-depth)
            return ;;
    esac

    local opts="--help" words_=""
    case $cmd in
        run) opts="--mode --config --status-dir --json --help" ;;
        stop) opts="--unpin --help" ;;
        status | version) opts="--help" ;;
        mode) opts="--help"; words_="enforce audit" ;;
        tag) opts="--domain --pid --uuid --netns --source --help"
            words_=$(ls /sys/class/net 2>/dev/null) ;;
        untag | release) opts="--netns --help"; words_="$(_macvguard_links)" ;;
        links) opts="--wide --help" ;;
        monitor) opts="--ifname --domain --verdict --kind --wide --json --help" ;;
        probes) opts="--help"; words_="on off" ;;
        journal) opts="--follow --domain --ifname --since --until --verdict --type --dir --wide --json --help"
            [[ $cur != -* ]] && { _filedir; return; } ;;
        postmortem) opts="--domain --since --until --html --journal-dir --journald --wide --json --help"
            [[ $cur != -* ]] && { _filedir; return; } ;;
        xml)
            case $sub in
                "") words_="sanitize check" ;;
                sanitize) opts="--mode --prefix --verbose --max-size --max-depth --help"
                    [[ $cur != -* ]] && { _filedir xml; return; } ;;
                check) opts="--prefix --max-size --max-depth --json --help"
                    [[ $cur != -* ]] && { _filedir; return; } ;;
            esac ;;
        hook)
            case $sub in
                "") words_="qemu install uninstall" ;;
                install) opts="--hooks-dir --binary --reload --help" ;;
                uninstall) opts="--hooks-dir --reload --help" ;;
                qemu) opts="--help" ;;
            esac ;;
        help) [[ -z $sub ]] && words_="$commands" ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$words_" -- "$cur"))
    fi
} &&
    complete -F _macvguard macvguard

# ex: filetype=sh
