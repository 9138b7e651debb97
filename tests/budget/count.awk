# Count lines holding code: not blank, not only a comment (C and C++).
# Strings containing comment markers are rare enough in tg to ignore.
FNR == 1 { in_comment = 0 }
{
    line = $0
    code = ""
    while (length(line) > 0) {
        if (in_comment) {
            end = index(line, "*/")
            if (end == 0) { line = ""; break }
            line = substr(line, end + 2)
            in_comment = 0
        } else {
            start = index(line, "/*")
            slash = index(line, "//")
            if (slash > 0 && (start == 0 || slash < start)) { code = code substr(line, 1, slash - 1); line = ""; break }
            if (start == 0) { code = code line; line = ""; break }
            code = code substr(line, 1, start - 1)
            line = substr(line, start + 2)
            in_comment = 1
        }
    }
    if (code ~ /[^ \t\r]/) n++
}

END { print n + 0 }
