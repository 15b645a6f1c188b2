# bash completion for folio: subcommands, each one's options, and the files they take (books,
# audio, indexes, photos). Installed as share/bash-completion/completions/folio.

_folio()
{
    local cur prev words cword
    _init_completion || return

    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
        -*) ;;
        *)
            cmd=${words[i]}
            break
            ;;
        esac
    done
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W 'book transcribe index export lookup serve help version
            --help --version' -- "$cur"))
        return
    fi

    local books='@(epub|html|htm|xhtml|txt)'
    local audio='@(mp3|m4b|m4a|aac|wav|flac|ogg|opus|m3u|m3u8)'
    case $prev in
    -o | --output)
        case $cmd in
        index) _filedir folio ;;
        transcribe) _filedir tsv ;;
        *) _filedir ;;
        esac
        return
        ;;
    --format)
        case $cmd in
        book) COMPREPLY=($(compgen -W 'auto epub html txt' -- "$cur")) ;;
        export) COMPREPLY=($(compgen -W 'json csv vtt epub' -- "$cur")) ;;
        esac
        return
        ;;
    --search)
        COMPREPLY=($(compgen -W 'fast balanced accurate' -- "$cur"))
        return
        ;;
    --book)
        _filedir epub
        return
        ;;
    --dict)
        _filedir dict
        return
        ;;
    --model | --audio)
        _filedir -d
        return
        ;;
    --text-file)
        _filedir txt
        return
        ;;
    --image)
        _filedir '@(jpg|jpeg|png|tif|tiff|webp)'
        return
        ;;
    --first-page-label | --threads | --page | --ordinal | --time | --file | --text | \
        --candidates | --scan-to-read | --port | --host | --cache | --ocr-threads | \
        --ocr-queue | --audio-url)
        return
        ;;
    esac

    local common='-q --quiet -v --verbose'
    local opts
    case $cmd in
    book) opts='--json --text --tokens --pronunciations --format --first-page-label --dict' ;;
    transcribe) opts='-o --threads --restart --search --model --dict' ;;
    index) opts='-o --force --threads --restart --search --model --dict' ;;
    export) opts='-o --format --book --embed-audio --audio --audio-url' ;;
    lookup) opts='--page --ordinal --time --file --text --text-file --image --candidates
        --scan-to-read' ;;
    serve) opts='--port --host --threads --cache --ocr-threads --ocr-queue' ;;
    *) return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts $common" -- "$cur"))
        return
    fi

    # The positional arguments: the first is a book (book, transcribe, index) or an index
    # (export, lookup); the rest are audio files or folders, or indexes and folders for serve.
    local n=0
    for ((i = i + 1; i < cword; i++)); do
        case ${words[i]} in
        -o | --format | --search | --book | --dict | --model | --audio | --text-file | --image | \
            --first-page-label | --threads | --page | --ordinal | --time | --file | --text | \
            --candidates | --scan-to-read | --port | --host | --cache | --ocr-threads | \
            --ocr-queue | --audio-url) ((i++)) ;;
        -*) ;;
        *) ((n++)) ;;
        esac
    done
    case $cmd in
    book) _filedir "$books" ;;
    transcribe | index)
        if ((n == 0)); then
            _filedir "$books"
        else
            _filedir "$audio"
        fi
        ;;
    export | lookup) ((n == 0)) && _filedir folio ;;
    serve) _filedir folio ;;
    esac
} &&
    complete -F _folio folio
