
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ngx_exa_ldap_refresh_int.h"
#include "ngx_exa_ldap.h"


/*
 * A change applied without reading every member again.
 *
 * A refresh that walks the groups (walk, off) records in a model what it
 * read: each member's DN and the names its entry gave, or none (an entry
 * the filter left out).  The worker keeps the model.  When the watch has
 * seen changes and can name the entries that changed, the next refresh
 * applies them to the model instead (a delta):
 *
 *   - the groups are walked as in a full read (their member values: a
 *     base read of each group of the tree, and the DNs of all groups), so
 *     members added and removed anywhere in the tree are known;
 *   - a member new to the tree, and a member whose entry changed, is read
 *     alone, by a base read with ldap_filter (fetch_users);
 *   - the list is made from the model: the names of every member of this
 *     read (build_list).
 *
 * The 100,000 entries of a 100,000-member group are not read again: a
 * delta reads the groups' entries and the few members that changed.  A
 * change it cannot apply this way makes it a full read: more than
 * NGX_EXA_LR_FETCH_MAX new members (at once, in place), or a member that
 * turns out to be a group the last full read did not know (the run fails
 * with NGX_EXA_LR_FULL in r->delta, and the caller reads in full).
 *
 * The model is the caller's: a failed delta leaves it half changed, and
 * the caller drops it.
 */


#define NGX_EXA_LR_DELTA_APPLY   1
#define NGX_EXA_LR_DELTA_OVER    2        /* too many new members */
#define NGX_EXA_LR_DELTA_LOST    (-1)     /* the model did not fit */


static int ngx_exa_lr_fetch_add(ngx_exa_lr_t *r, ngx_exa_lm_user_t *u,
    const char *dn, size_t len);
static int ngx_exa_lr_model_nomem(ngx_exa_lr_t *r);


ngx_exa_lm_t *
ngx_exa_lm_create(size_t memory_max)
{
    ngx_exa_lm_t  *m;

    m = calloc(1, sizeof(ngx_exa_lm_t));
    if (m == NULL) {
        return NULL;
    }

    m->mem.max = memory_max;
    m->arena.mem = &m->mem;
    m->users.arena = &m->arena;

    return m;
}


void
ngx_exa_lm_destroy(ngx_exa_lm_t *m)
{
    if (m == NULL) {
        return;
    }

    ngx_exa_set_free(&m->users);

    if (m->list) {
        ngx_exa_mem_free(&m->mem, m->list, m->list_size,
                         sizeof(ngx_exa_lm_user_t *));
    }

    ngx_exa_arena_free(&m->arena);

    free(m);
}


size_t
ngx_exa_lm_members(const ngx_exa_lm_t *m)
{
    return m->members;
}


size_t
ngx_exa_lm_memory(const ngx_exa_lm_t *m)
{
    return m->mem.used;
}


/* a full read records what it reads in m, which is empty */

void
ngx_exa_lr_record(ngx_exa_lr_t *r, ngx_exa_lm_t *m)
{
    if (r->conf->nested == NGX_EXA_LDAP_NESTED_CHAIN) {
        r->delta = NGX_EXA_LR_DELTA_LOST;
        return;
    }

    r->model = m;
    r->delta = 0;
    r->epoch = m->epoch + 1;
}


/*
 * A delta: the model of the last read, and the DNs of the entries that
 * changed since, as the server wrote them (copied).
 */

int
ngx_exa_lr_apply(ngx_exa_lr_t *r, ngx_exa_lm_t *m, const ngx_exa_str_t *dns,
    size_t n)
{
    size_t          i;
    unsigned char  *p;

    if (r->conf->nested == NGX_EXA_LDAP_NESTED_CHAIN || m->epoch == 0
        || n > NGX_EXA_LR_CHANGES_MAX)
    {
        return -1;
    }

    r->changed = calloc(n ? n : 1, sizeof(ngx_exa_str_t));
    if (r->changed == NULL) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (dns[i].len >= NGX_EXA_LR_DN_MAX) {
            continue;
        }

        p = ngx_exa_arena_alloc(&r->arena, dns[i].len + 1);
        if (p == NULL) {
            return -1;
        }

        memcpy(p, dns[i].data, dns[i].len);
        p[dns[i].len] = '\0';

        r->changed[r->nchanged].data = p;
        r->changed[r->nchanged].len = dns[i].len;
        r->nchanged++;
    }

    r->model = m;
    r->delta = NGX_EXA_LR_DELTA_APPLY;
    r->epoch = m->epoch + 1;

    return 0;
}


/* 1: this read applied changes; 0: it recorded a model; -1: no model */

int
ngx_exa_lr_delta(ngx_exa_lr_t *r)
{
    if (r->delta == NGX_EXA_LR_DELTA_LOST || r->model == NULL) {
        return -1;
    }

    return r->delta == NGX_EXA_LR_DELTA_APPLY;
}


/*
 * A member value new to this read (walk, off): its record, and, in a
 * delta, a read of its entry unless it was a member at the last read.
 */

int
ngx_exa_lr_model_member(ngx_exa_lr_t *r, const unsigned char *dn, size_t len,
    struct berval *raw)
{
    int                   rc;
    ngx_exa_lm_t         *m;
    ngx_exa_lm_user_t    *u;
    const unsigned char  *data;

    m = r->model;

    rc = ngx_exa_set_put(&m->users, dn, len, sizeof(ngx_exa_lm_user_t),
                         &data);
    if (rc < 0) {
        return ngx_exa_lr_model_nomem(r);
    }

    u = ngx_exa_lm_user(data);

    if (rc == 1) {
        if (ngx_exa_mem_grow(&m->mem, (void **) &m->list, &m->list_size,
                             m->nlist + 1, sizeof(ngx_exa_lm_user_t *))
            != 0)
        {
            return ngx_exa_lr_model_nomem(r);
        }

        m->list[m->nlist++] = u;
    }

    if (r->delta && (rc == 1 || u->epoch != m->epoch)) {
        rc = ngx_exa_lr_fetch_add(r, u, raw->bv_val, raw->bv_len);
        if (rc != NGX_EXA_LR_NEXT) {
            return rc;
        }
    }

    u->epoch = r->epoch;

    return NGX_EXA_LR_NEXT;
}


/* a member's entry in the users' search of a full read */

int
ngx_exa_lr_model_user(ngx_exa_lr_t *r, const unsigned char *dn, size_t len)
{
    const unsigned char  *data;

    data = ngx_exa_set_get(&r->model->users, dn, len);

    if (data) {
        r->user = ngx_exa_lm_user(data);
        r->user_keys = r->nkeys;
    }

    return NGX_EXA_LR_PARTIAL;
}


/*
 * The end of a member's entry: its names, copied into the model; in a
 * delta they are the model's only (the list is made from the model).
 */

int
ngx_exa_lr_model_keys(ngx_exa_lr_t *r)
{
    size_t              i, n;
    unsigned char      *p;
    ngx_exa_str_t      *keys;
    ngx_exa_lm_user_t  *u;

    u = r->user;
    r->user = NULL;

    if (r->model == NULL) {
        return NGX_EXA_LR_NEXT;
    }

    n = r->nkeys - r->user_keys;
    keys = NULL;

    if (n) {
        keys = ngx_exa_arena_alloc(&r->model->arena,
                                   n * sizeof(ngx_exa_str_t));
        if (keys == NULL) {
            return ngx_exa_lr_model_nomem(r);
        }

        for (i = 0; i < n; i++) {
            keys[i] = r->keys[r->user_keys + i];

            p = ngx_exa_arena_alloc(&r->model->arena, keys[i].len);
            if (p == NULL) {
                return ngx_exa_lr_model_nomem(r);
            }

            memcpy(p, keys[i].data, keys[i].len);
            keys[i].data = p;
        }
    }

    u->keys = keys;
    u->nkeys = (uint32_t) n;

    if (r->delta) {
        for (i = r->user_keys; i < r->nkeys; i++) {
            r->keybytes -= r->keys[i].len;
        }

        r->nkeys = r->user_keys;
    }

    return NGX_EXA_LR_NEXT;
}


/* a member read alone that is a group: only a full read knows its members */

int
ngx_exa_lr_model_class(ngx_exa_lr_t *r, struct berval *v)
{
    static const char  *groups[] = {
        "group", "groupOfNames", "groupOfUniqueNames", NULL
    };

    size_t  i;

    for (i = 0; groups[i]; i++) {
        if (v->bv_len == strlen(groups[i])
            && strncasecmp(v->bv_val, groups[i], v->bv_len) == 0)
        {
            return ngx_exa_lr_fail(r, 1, "a new member is a group the last "
                                   "full read did not know");
        }
    }

    return NGX_EXA_LR_NEXT;
}


/*
 * The model does not fit in the working memory: a full read goes on
 * without it (the next change is read in full again); a delta fails.
 */

static int
ngx_exa_lr_model_nomem(ngx_exa_lr_t *r)
{
    if (r->delta) {
        return ngx_exa_lr_fail(r, 0, "the members known to the worker need "
                               "more than %zu MB of memory",
                               r->model->mem.max >> 20);
    }

    if (r->conf->note) {
        r->conf->note(r->conf->data, "the members of the list do not fit in "
                      "the working memory: every change the watch sees is "
                      "read in full");
    }

    r->model = NULL;
    r->delta = NGX_EXA_LR_DELTA_LOST;
    r->user = NULL;

    return NGX_EXA_LR_NEXT;
}


static int
ngx_exa_lr_fetch_add(ngx_exa_lr_t *r, ngx_exa_lm_user_t *u, const char *dn,
    size_t len)
{
    unsigned char       *p;
    ngx_exa_lr_fetch_t  *f;

    if (u->queued == r->epoch || r->delta == NGX_EXA_LR_DELTA_OVER) {
        return NGX_EXA_LR_NEXT;
    }

    if (r->nfetch >= NGX_EXA_LR_FETCH_MAX) {
        r->delta = NGX_EXA_LR_DELTA_OVER;
        return NGX_EXA_LR_NEXT;
    }

    if (ngx_exa_mem_grow(&r->mem, (void **) &r->fetch, &r->fetch_size,
                         r->nfetch + 1, sizeof(ngx_exa_lr_fetch_t))
        != 0)
    {
        return ngx_exa_lr_nomem(r);
    }

    p = ngx_exa_arena_alloc(&r->arena, len + 1);
    if (p == NULL) {
        return ngx_exa_lr_nomem(r);
    }

    memcpy(p, dn, len);
    p[len] = '\0';

    f = &r->fetch[r->nfetch++];
    f->user = u;
    f->dn = p;
    f->len = len;

    u->queued = r->epoch;

    return NGX_EXA_LR_NEXT;
}


/*
 * The groups are walked: the members whose entries changed are read too,
 * if they are members still.  NGX_EXA_LR_FULL: too many to read alone.
 */

int
ngx_exa_lr_fetch_start(ngx_exa_lr_t *r)
{
    int                   rc;
    size_t                i, len;
    ngx_exa_lm_user_t    *u;
    const unsigned char  *data;
    unsigned char         buf[NGX_EXA_LR_DN_MAX];

    for (i = 0; i < r->nchanged; i++) {
        len = ngx_exa_ldap_dn_norm(r->changed[i].data, r->changed[i].len,
                                   buf);

        data = ngx_exa_set_get(&r->model->users, buf, len);
        if (data == NULL) {
            continue;            /* not a member: its change is not ours */
        }

        u = ngx_exa_lm_user(data);

        if (u->epoch != r->epoch) {
            continue;            /* a member no more */
        }

        rc = ngx_exa_lr_fetch_add(r, u, (const char *) r->changed[i].data,
                                  r->changed[i].len);
        if (rc != NGX_EXA_LR_NEXT) {
            return rc;
        }
    }

    if (r->delta == NGX_EXA_LR_DELTA_OVER) {
        if (r->conf->note) {
            r->conf->note(r->conf->data, "more members to read than a "
                          "change may add (1000): the users are read in "
                          "full");
        }

        return NGX_EXA_LR_FULL;
    }

    r->state = NGX_EXA_LR_FETCH_USERS;
    r->next_fetch = 0;

    return ngx_exa_lr_fetch_send(r);
}


/*
 * Too many new members to read alone: the users' search of a full read
 * gives every member its names again, from none.
 */

void
ngx_exa_lr_model_full(ngx_exa_lr_t *r)
{
    size_t         i;
    ngx_exa_lm_t  *m;

    m = r->model;

    for (i = 0; i < m->nlist; i++) {
        if (m->list[i]->epoch == r->epoch) {
            m->list[i]->keys = NULL;
            m->list[i]->nkeys = 0;
        }
    }

    r->delta = 0;
}


/* base reads of the members to read, a window at a time */

int
ngx_exa_lr_fetch_send(ngx_exa_lr_t *r)
{
    int                  rc;
    char                *filter;
    size_t               s, n, len;
    const char         **attrs;
    ngx_exa_lr_fetch_t  *f;

    if (r->next_fetch == r->nfetch) {
        if (r->in_flight == 0) {
            r->state = NGX_EXA_LR_BUILD_LIST;
            r->next_build = 0;
        }

        return NGX_EXA_LR_NEXT;
    }

    for (n = 0; r->conf->attrs[n]; n++) { /* void */ }

    len = sizeof("(&(objectClass=*))") + strlen(r->conf->filter);

    attrs = malloc((n + 2) * sizeof(char *));
    filter = malloc(len);

    if (attrs == NULL || filter == NULL) {
        free(attrs);
        free(filter);
        return ngx_exa_lr_fail(r, 0, "out of memory");
    }

    memcpy(attrs, r->conf->attrs, n * sizeof(char *));
    attrs[n] = "objectClass";
    attrs[n + 1] = NULL;

    snprintf(filter, len, "(&(objectClass=*)%s)", r->conf->filter);

    rc = LDAP_SUCCESS;

    for (s = 0; s < NGX_EXA_LR_WINDOW && r->next_fetch < r->nfetch; s++) {

        if (r->reads[s].msgid != -1) {
            continue;
        }

        f = &r->fetch[r->next_fetch];

        rc = ldap_search_ext(r->ld, (const char *) f->dn, LDAP_SCOPE_BASE,
                             filter, (char **) attrs, 0, NULL, NULL, NULL, 0,
                             &r->reads[s].msgid);

        if (rc != LDAP_SUCCESS) {
            r->reads[s].msgid = -1;
            break;
        }

        r->reads[s].group = r->next_fetch;
        r->reads[s].entries = 0;
        r->next_fetch++;
        r->in_flight++;
    }

    free(attrs);
    free(filter);

    if (rc != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 1, "search request failed (%d: %s)",
                               rc, ldap_err2string(rc));
    }

    return NGX_EXA_LR_NEXT;
}


/* the entry of a member read alone: its own, not another's */

int
ngx_exa_lr_fetch_entry(ngx_exa_lr_t *r, const unsigned char *dn, size_t len)
{
    char                 esc[160];
    size_t               flen;
    ngx_exa_lr_fetch_t  *f;
    unsigned char        buf[NGX_EXA_LR_DN_MAX];

    f = &r->fetch[r->reads[r->group].group];

    flen = ngx_exa_ldap_dn_norm(f->dn, f->len, buf);

    if (flen != len || memcmp(buf, dn, len) != 0
        || r->reads[r->group].entries > 1)
    {
        ngx_exa_lr_escape(esc, sizeof(esc), (const char *) f->dn, f->len);

        return ngx_exa_lr_fail(r, 1, "the base read of member \"%s\" was "
                               "answered by another entry", esc);
    }

    r->user = f->user;
    r->user_keys = r->nkeys;

    return NGX_EXA_LR_PARTIAL;
}


/*
 * The end of a member's read: no entry (the filter leaves it out, or it
 * is gone) is a member without names.
 */

int
ngx_exa_lr_fetch_result(ngx_exa_lr_t *r, size_t slot)
{
    int                  code;
    char                 esc[160], *text;
    ngx_exa_lr_fetch_t  *f;

    f = &r->fetch[r->reads[slot].group];

    r->reads[slot].msgid = -1;
    r->in_flight--;

    text = NULL;

    if (ldap_parse_result(r->ld, r->msg, &code, NULL, &text, NULL, NULL, 0)
        != LDAP_SUCCESS)
    {
        code = LDAP_OTHER;
    }

    if (text) {
        ldap_memfree(text);
    }

    if (code != LDAP_SUCCESS && code != LDAP_NO_SUCH_OBJECT) {
        ngx_exa_lr_escape(esc, sizeof(esc), (const char *) f->dn, f->len);

        return ngx_exa_lr_fail(r, ngx_exa_lr_server_fault(code),
                               "reading member \"%s\" failed (%d: %s)",
                               esc, code, ldap_err2string(code));
    }

    if (code != LDAP_SUCCESS || r->reads[slot].entries == 0) {
        f->user->keys = NULL;
        f->user->nkeys = 0;
    }

    return ngx_exa_lr_fetch_send(r);
}


/*
 * The list of a delta: the names of every member of this read, from the
 * model, a part at a time.  NGX_EXA_LR_PARTIAL when the call's time is up.
 */

int
ngx_exa_lr_build(ngx_exa_lr_t *r)
{
    size_t              i, k;
    ngx_exa_lm_t       *m;
    ngx_exa_lm_user_t  *u;

    m = r->model;

    for (i = r->next_build; i < m->nlist; i++) {
        u = m->list[i];

        if (u->epoch == r->epoch && u->nkeys) {

            if (ngx_exa_mem_grow(&r->mem, (void **) &r->keys, &r->keys_size,
                                 r->nkeys + u->nkeys, sizeof(ngx_exa_str_t))
                != 0)
            {
                return ngx_exa_lr_nomem(r);
            }

            for (k = 0; k < u->nkeys; k++) {
                r->keys[r->nkeys++] = u->keys[k];
                r->keybytes += u->keys[k].len;
            }
        }

        if (ngx_exa_lr_timeup(r)) {
            r->next_build = i + 1;
            return NGX_EXA_LR_PARTIAL;
        }
    }

    r->next_build = m->nlist;

    return ngx_exa_lr_fits(r, r->nkeys, r->keybytes, "names");
}
