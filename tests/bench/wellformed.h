/* wellformed.h -- strict little checkers for the tests: is a text valid
 * JSON (RFC 8259), is it well-formed XML (elements nest, attributes are
 * quoted, one root)? Header only; each returns 1 if so. */
#ifndef TG_TESTS_WELLFORMED_H
#define TG_TESTS_WELLFORMED_H

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *json_value_(const char *p, int depth);

static const char *json_ws_(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

static const char *json_string_(const char *p) {
    if (*p++ != '"') return NULL;
    while (*p != '"') {
        if ((unsigned char)*p < 0x20) return NULL;
        if (*p == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)p[i])) return NULL;
                p += 4;
            } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
                return NULL;
            }
        }
        p++;
    }
    return p + 1;
}

static const char *json_number_(const char *p) {
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (isdigit((unsigned char)*p)) while (isdigit((unsigned char)*p)) p++;
    else return NULL;
    if (*p == '.') {
        if (!isdigit((unsigned char)*++p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return NULL;
        while (isdigit((unsigned char)*p)) p++;
    }
    return p;
}

static const char *json_value_(const char *p, int depth) {
    if (depth > 64) return NULL;
    p = json_ws_(p);
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        int object = *p == '{';
        p = json_ws_(p + 1);
        if (*p == close) return p + 1;
        for (;;) {
            if (object) {
                if (!(p = json_string_(json_ws_(p)))) return NULL;
                p = json_ws_(p);
                if (*p++ != ':') return NULL;
            }
            if (!(p = json_value_(p, depth + 1))) return NULL;
            p = json_ws_(p);
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
    }
    if (*p == '"') return json_string_(p);
    if (!strncmp(p, "true", 4)) return p + 4;
    if (!strncmp(p, "false", 5)) return p + 5;
    if (!strncmp(p, "null", 4)) return p + 4;
    return json_number_(p);
}

static int json_valid(const char *text) {
    const char *end = json_value_(text, 0);
    return end && *json_ws_(end) == '\0';
}

/* XML: prolog/comments skipped, names [A-Za-z_:][-.\w:]*, attributes
 * name='v' or name="v" without '<' inside, elements nest, one root. */
static int xml_name_(const char **pp, char *out, size_t cap) {
    const char *p = *pp;
    size_t n = 0;
    if (!(isalpha((unsigned char)*p) || *p == '_' || *p == ':')) return 0;
    while (isalnum((unsigned char)*p) || strchr("_:-.", *p)) {
        if (!*p) break;
        if (n + 1 < cap) out[n++] = *p;
        p++;
    }
    out[n] = '\0';
    *pp = p;
    return 1;
}

static int xml_wellformed(const char *p) {
    char stack[64][64], name[64];
    int depth = 0, roots = 0;
    while (*p) {
        if (*p != '<') {
            if (depth == 0 && !isspace((unsigned char)*p)) return 0;
            p++;
            continue;
        }
        if (!strncmp(p, "<?", 2)) {
            if (!(p = strstr(p, "?>"))) return 0;
            p += 2;
        } else if (!strncmp(p, "<!--", 4)) {
            if (!(p = strstr(p, "-->"))) return 0;
            p += 3;
        } else if (p[1] == '/') {
            p += 2;
            if (!xml_name_(&p, name, sizeof name) || depth == 0 || strcmp(stack[depth - 1], name)) return 0;
            depth--;
            while (isspace((unsigned char)*p)) p++;
            if (*p++ != '>') return 0;
        } else {
            p++;
            if (!xml_name_(&p, name, sizeof name)) return 0;
            if (depth == 0 && roots++) return 0;
            for (;;) {
                char attr[64];
                int ws = isspace((unsigned char)*p);
                while (isspace((unsigned char)*p)) p++;
                if (*p == '>' || !strncmp(p, "/>", 2)) break;
                if (!ws || !xml_name_(&p, attr, sizeof attr) || *p++ != '=') return 0;
                char q = *p++;
                if (q != '\'' && q != '"') return 0;
                while (*p && *p != q) {
                    if (*p == '<') return 0;
                    p++;
                }
                if (*p++ != q) return 0;
            }
            if (*p == '/') {
                p += 2;
            } else {
                if (depth == 64) return 0;
                snprintf(stack[depth++], sizeof stack[0], "%s", name);
                p++;
            }
        }
    }
    return depth == 0 && roots == 1;
}

#endif
