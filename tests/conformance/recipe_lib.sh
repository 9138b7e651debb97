# Shell functions the recipe tests share (sourced).

# block FILE TEXT [KEY]: the YAML block scalar ("key: |" or "- |" and the
# lines indented deeper) holding TEXT, unindented. TEXT empty: every block,
# each followed by a line "#--". KEY: only blocks of lines matching this awk
# regular expression ("run: [|]$").
block() {
    awk -v want="$2" -v keyre="${3:-(:|-) [|]\$}" '
        function flush() {
            if (inblk && want == "") printf "%s#--\n", buf
            else if (inblk && index(buf, want)) { printf "%s", buf; done = 1 }
            inblk = 0
        }
        {
            ind = match($0, /[^ ]/) - 1
            if (inblk && ($0 ~ /^ *$/ || ind > key)) {
                if (cut < 0) cut = ind
                buf = buf substr($0, cut + 1) "\n"
                next
            }
            flush()
            if (done) exit
            if ($0 ~ keyre) { inblk = 1; buf = ""; key = ind; cut = -1 }
        }
        END { if (!done) flush() }' "$1"
}
