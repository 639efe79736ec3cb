
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "ngx_exa_ldap_refresh_int.h"


/*
 * The limits of a refresh and how it fails: the time a call may work, the
 * memory it may keep, the names the zone can hold; the text of a failure,
 * with what came from the server escaped.
 */


/*
 * Text from the directory for a log line or the status page: printable
 * ASCII stays, anything else becomes \xNN.  Returns the length written,
 * out is NUL-terminated.
 */

size_t
ngx_exa_lr_escape(char *out, size_t size, const char *s, size_t len)
{
    size_t         i, n;
    unsigned char  c;

    static const char  hex[] = "0123456789abcdef";

    if (size == 0) {
        return 0;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c < 0x7f && c != '\\') {
            if (n + 1 >= size) {
                break;
            }

            out[n++] = (char) c;
            continue;
        }

        if (n + 4 >= size) {
            break;
        }

        out[n++] = '\\';
        out[n++] = 'x';
        out[n++] = hex[c >> 4];
        out[n++] = hex[c & 0x0f];
    }

    out[n] = '\0';

    return n;
}


/* the refresh failed; retry: another server may do better */

int
ngx_exa_lr_fail(ngx_exa_lr_t *r, int retry, const char *fmt, ...)
{
    va_list  args;

    if (r->state == NGX_EXA_LR_FAILED) {
        return NGX_EXA_LR_ERROR;
    }

    va_start(args, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, args);
    va_end(args);

    r->retry = retry;
    r->state = NGX_EXA_LR_FAILED;

    return NGX_EXA_LR_ERROR;
}


/* no memory: the limit on what a refresh keeps, or malloc() */

int
ngx_exa_lr_nomem(ngx_exa_lr_t *r)
{
    if (r->mem.over) {
        return ngx_exa_lr_fail(r, 0, "the answer needs more than %zu MB of "
                               "memory", r->mem.max >> 20);
    }

    return ngx_exa_lr_fail(r, 0, "out of memory");
}


/* would a table of n names of keybytes bytes still fit in the zone? */

int
ngx_exa_lr_fits(ngx_exa_lr_t *r, size_t n, size_t keybytes, const char *what)
{
    size_t  size;

    if (r->conf->table_max == 0) {
        return NGX_EXA_LR_NEXT;
    }

    size = ngx_exa_table_size(n, keybytes);

    if (size && size <= r->conf->table_max) {
        return NGX_EXA_LR_NEXT;
    }

    return ngx_exa_lr_fail(r, 0, "more %s than the zone of %zu bytes can "
                           "hold (%zu so far): make \"zone\" larger", what,
                           r->conf->zone_size, n);
}


/*
 * Has this call worked long enough?  The clock is read now and then: a
 * unit of work is short, but some touch new pages of a large refresh's
 * memory, and each first touch can cost microseconds.
 */

int
ngx_exa_lr_timeup(ngx_exa_lr_t *r)
{
    long             us;
    struct timespec  now;

    if (r->conf->step_usec == 0 || ++r->work % NGX_EXA_LR_CLOCK != 0) {
        return 0;
    }

    clock_gettime(CLOCK_MONOTONIC, &now);

    us = (now.tv_sec - r->started.tv_sec) * 1000000
         + (now.tv_nsec - r->started.tv_nsec) / 1000;

    return us >= (long) r->conf->step_usec;
}


/*
 * Is a result code about this server (another may do better: busy,
 * unavailable, limits, a reset) or about the configuration (the same
 * anywhere: a name that does not exist, a filter, the account's rights)?
 */

int
ngx_exa_lr_server_fault(int code)
{
    switch (code) {
    case LDAP_NO_SUCH_OBJECT:
    case LDAP_INVALID_DN_SYNTAX:
    case LDAP_FILTER_ERROR:
    case LDAP_INAPPROPRIATE_MATCHING:
    case LDAP_UNDEFINED_TYPE:
    case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_INAPPROPRIATE_AUTH:
    case LDAP_INVALID_CREDENTIALS:
        return 0;

    default:
        return 1;
    }
}
