
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ngx_exa_ldap_refresh_int.h"
#include "ngx_exa_ldap.h"
#include "ngx_exa_name.h"


/*
 * The entries that answer a refresh's searches.  An entry is walked once,
 * attribute by attribute and value by value with liblber's element
 * functions (no copy, no array of all values), and what each value becomes
 * depends on the search: a group's members, a group's primary group token,
 * the names of a user.
 */


static int ngx_exa_lr_entry_start(ngx_exa_lr_t *r);
static int ngx_exa_lr_attribute(ngx_exa_lr_t *r, struct berval *type);
static int ngx_exa_lr_value(ngx_exa_lr_t *r, struct berval *v);
static int ngx_exa_lr_member(ngx_exa_lr_t *r, struct berval *v);
static int ngx_exa_lr_token(ngx_exa_lr_t *r, struct berval *v);
static int ngx_exa_lr_name(ngx_exa_lr_t *r, struct berval *v);


/*
 * A search entry: which search it answers decides what it is for.  Its
 * attributes are walked once, each value at most once, and the walk stops
 * when the call's time is up (NGX_EXA_LR_PARTIAL) to go on later.
 */

int
ngx_exa_lr_entry(ngx_exa_lr_t *r)
{
    int            rc;
    ber_len_t      blen;
    ber_tag_t      tag;
    struct berval  type, v;

    if (r->ber == NULL) {
        rc = ngx_exa_lr_entry_start(r);
        if (rc != NGX_EXA_LR_PARTIAL) {
            return rc;
        }
    }

    /* an answer to a request in flight: the refresh goes on */

    r->progress = 1;

    for ( ;; ) {

        if (r->last == NULL) {

            /* the next attribute: its type, then the start of its values */

            if (ber_get_option(r->ber, LBER_OPT_REMAINING_BYTES, &blen)
                != LBER_OPT_SUCCESS || blen == 0)
            {
                return r->state == NGX_EXA_LR_READ_DOMAINS
                       ? ngx_exa_lr_domains_entry(r)
                       : r->user ? ngx_exa_lr_model_keys(r) : NGX_EXA_LR_NEXT;
            }

            if (ber_skip_tag(r->ber, &blen) == LBER_DEFAULT
                || ber_get_stringbv(r->ber, &type, LBER_BV_NOTERM)
                   == LBER_DEFAULT)
            {
                return ngx_exa_lr_fail(r, 1, "an entry that cannot be "
                                       "decoded");
            }

            rc = ngx_exa_lr_attribute(r, &type);
            if (rc != NGX_EXA_LR_NEXT) {
                return rc;
            }

            tag = ber_first_element(r->ber, &blen, &r->last);

            if (r->last == NULL) {
                return ngx_exa_lr_fail(r, 1, "an entry that cannot be "
                                       "decoded");
            }

        } else {
            tag = ber_next_element(r->ber, &blen, r->last);
        }

        if (tag == LBER_DEFAULT) {
            r->last = NULL;            /* the attribute's values are done */

            if (ngx_exa_lr_timeup(r)) {
                return NGX_EXA_LR_PARTIAL;
            }

            continue;
        }

        if (ber_get_stringbv(r->ber, &v, LBER_BV_NOTERM) == LBER_DEFAULT) {
            return ngx_exa_lr_fail(r, 1, "an entry that cannot be decoded");
        }

        rc = ngx_exa_lr_value(r, &v);
        if (rc != NGX_EXA_LR_NEXT) {
            return rc;
        }

        if (ngx_exa_lr_timeup(r)) {
            return NGX_EXA_LR_PARTIAL;
        }
    }
}


/*
 * Which search the entry answers, and its DN: NGX_EXA_LR_PARTIAL to walk
 * its attributes, NGX_EXA_LR_NEXT when it is done with already, or an
 * error.
 */

static int
ngx_exa_lr_entry_start(ngx_exa_lr_t *r)
{
    int            msgid;
    size_t         s, len;
    struct berval  dn;
    unsigned char  buf[NGX_EXA_LR_DN_MAX];

    msgid = ldap_msgid(r->msg);

    if (r->state == NGX_EXA_LR_READ_GROUPS
        || r->state == NGX_EXA_LR_FETCH_USERS)
    {
        for (s = 0; s < NGX_EXA_LR_WINDOW; s++) {
            if (r->reads[s].msgid == msgid) {
                break;
            }
        }

        if (s == NGX_EXA_LR_WINDOW) {
            r->stats.ignored++;
            return NGX_EXA_LR_NEXT;
        }

        r->reads[s].entries++;

        /* a group's read: the group; a member's: the slot of its read */
        r->group = r->state == NGX_EXA_LR_READ_GROUPS ? r->reads[s].group : s;

    } else if (msgid != r->msgid) {
        r->stats.ignored++;
        return NGX_EXA_LR_NEXT;
    }

    r->stats.entries++;
    r->progress = 1;
    r->nmember = 0;
    r->user = NULL;

    if (ldap_get_dn_ber(r->ld, r->msg, &r->ber, &dn) != LDAP_SUCCESS) {
        return ngx_exa_lr_fail(r, 1, "an entry that cannot be decoded");
    }

    r->cur_netbios[0] = '\0';
    r->cur_nc_len = 0;
    r->netbios = NULL;

    if (r->state == NGX_EXA_LR_READ_GROUPS
        || r->state == NGX_EXA_LR_READ_DOMAINS
        || (r->state == NGX_EXA_LR_SEARCH_USERS
            && r->conf->nested == NGX_EXA_LDAP_NESTED_CHAIN
            && r->ndomains == 0))
    {
        return NGX_EXA_LR_PARTIAL;
    }

    if (dn.bv_len >= sizeof(buf)) {
        if (r->state == NGX_EXA_LR_FETCH_USERS) {
            return ngx_exa_lr_fail(r, 1, "the base read of a member was "
                                   "answered by another entry");
        }

        r->stats.skipped++;
        return NGX_EXA_LR_NEXT;
    }

    len = ngx_exa_ldap_dn_norm((unsigned char *) dn.bv_val, dn.bv_len, buf);

    if (r->state == NGX_EXA_LR_LIST_GROUPS) {
        return ngx_exa_set_add(&r->all_groups, buf, len) < 0
               ? ngx_exa_lr_nomem(r) : NGX_EXA_LR_NEXT;
    }

    /* the user's domain, in Active Directory */

    r->netbios = ngx_exa_lr_domain_of(r, buf, len);

    if (r->state == NGX_EXA_LR_FETCH_USERS) {
        return ngx_exa_lr_fetch_entry(r, buf, len);
    }

    if (r->conf->nested == NGX_EXA_LDAP_NESTED_CHAIN) {
        return NGX_EXA_LR_PARTIAL;
    }

    /* walk, off: a user only if a group has it as a member */

    if (!ngx_exa_set_has(&r->members, buf, len)) {
        return NGX_EXA_LR_NEXT;
    }

    return r->model ? ngx_exa_lr_model_user(r, buf, len) : NGX_EXA_LR_PARTIAL;
}


/* what the values of an attribute are for */

static int
ngx_exa_lr_attribute(ngx_exa_lr_t *r, struct berval *type)
{
    int              rc;
    char             name[128], dn[128];
    size_t           i;
    ngx_exa_range_t  range;

    r->attr = NGX_EXA_LR_ATTR_NONE;

    if (type->bv_len >= sizeof(name)) {
        return NGX_EXA_LR_NEXT;
    }

    memcpy(name, type->bv_val, type->bv_len);
    name[type->bv_len] = '\0';

    if (r->state == NGX_EXA_LR_READ_GROUPS) {

        if (strcasecmp(name, "primaryGroupToken") == 0) {
            if (r->conf->nested == NGX_EXA_LDAP_NESTED_CHAIN) {
                r->attr = NGX_EXA_LR_ATTR_TOKEN;
            }

            return NGX_EXA_LR_NEXT;
        }

        rc = ngx_exa_ldap_range(name, "member", &range);

        if (rc < 0) {
            return NGX_EXA_LR_NEXT;
        }

        /* an attribute is in an entry once (RFC 4511, 4.1.7) */

        if (r->nmember++) {
            ngx_exa_lr_escape(dn, sizeof(dn),
                              (const char *) r->groups[r->group].dn,
                              r->groups[r->group].len);

            return ngx_exa_lr_fail(r, 1, "the entry of group \"%s\" has "
                                   "more than one member attribute", dn);
        }

        r->attr = NGX_EXA_LR_ATTR_MEMBER;

        /* a range starts where it was asked to: the reads move forward */

        if ((rc == 1 ? range.start : 0) != r->groups[r->group].range) {
            ngx_exa_lr_escape(dn, sizeof(dn),
                              (const char *) r->groups[r->group].dn,
                              r->groups[r->group].len);

            return ngx_exa_lr_fail(r, 1, "group \"%s\": the server "
                                   "answered %s when asked for "
                                   "member;range=%zu-*",
                                   dn, name, r->groups[r->group].range);
        }

        /*
         * Active Directory sent one range of member: walking, ask for the
         * next; in chain, the first range tells that the group has members,
         * which is all the refresh needs of it
         */

        if (rc == 1 && !range.last
            && r->conf->nested != NGX_EXA_LDAP_NESTED_CHAIN)
        {
            return ngx_exa_lr_queue(r, r->groups[r->group].dn,
                                    r->groups[r->group].len,
                                    r->groups[r->group].depth,
                                    r->groups[r->group].configured,
                                    range.end + 1)
                   ? NGX_EXA_LR_ERROR : NGX_EXA_LR_NEXT;
        }

        return NGX_EXA_LR_NEXT;
    }

    if (r->state == NGX_EXA_LR_READ_DOMAINS) {
        r->attr = strcasecmp(name, "configurationNamingContext") == 0
                  ? NGX_EXA_LR_ATTR_CONFIG
                  : strcasecmp(name, "nETBIOSName") == 0
                  ? NGX_EXA_LR_ATTR_NETBIOS
                  : strcasecmp(name, "nCName") == 0
                  ? NGX_EXA_LR_ATTR_NCNAME : NGX_EXA_LR_ATTR_NONE;

        return NGX_EXA_LR_NEXT;
    }

    if (r->state == NGX_EXA_LR_FETCH_USERS) {
        if (strcasecmp(name, "objectClass") == 0) {
            r->attr = NGX_EXA_LR_ATTR_CLASS;
            return NGX_EXA_LR_NEXT;
        }

    } else if (r->state != NGX_EXA_LR_SEARCH_USERS) {
        return NGX_EXA_LR_NEXT;
    }

    for (i = 0; r->conf->attrs[i]; i++) {
        if (strcasecmp(name, r->conf->attrs[i]) == 0) {
            r->attr = NGX_EXA_LR_ATTR_NAME;
            break;
        }
    }

    if (strcasecmp(name, "sAMAccountName") == 0
        || strcasecmp(name, "uid") == 0)
    {
        r->kind = NGX_EXA_LR_NAME_LOGON;

    } else if (strcasecmp(name, "userPrincipalName") == 0
               || strcasecmp(name, "mail") == 0)
    {
        r->kind = NGX_EXA_LR_NAME_UPN;

    } else {
        r->kind = NGX_EXA_LR_NAME_ANY;
    }

    return NGX_EXA_LR_NEXT;
}


static int
ngx_exa_lr_value(ngx_exa_lr_t *r, struct berval *v)
{
    switch (r->attr) {

    case NGX_EXA_LR_ATTR_MEMBER:
        return ngx_exa_lr_member(r, v);

    case NGX_EXA_LR_ATTR_TOKEN:
        return ngx_exa_lr_token(r, v);

    case NGX_EXA_LR_ATTR_NAME:
        return ngx_exa_lr_name(r, v);

    case NGX_EXA_LR_ATTR_CLASS:
        return ngx_exa_lr_model_class(r, v);

    case NGX_EXA_LR_ATTR_CONFIG:
    case NGX_EXA_LR_ATTR_NETBIOS:
    case NGX_EXA_LR_ATTR_NCNAME:
        return ngx_exa_lr_domains_value(r, v);

    default:
        return NGX_EXA_LR_NEXT;
    }
}


/* a member of a group: a nested group to read, or a member to keep */

static int
ngx_exa_lr_member(ngx_exa_lr_t *r, struct berval *v)
{
    int                  added;
    size_t               len;
    ngx_exa_lr_group_t  *g;
    unsigned char        buf[NGX_EXA_LR_DN_MAX];

    r->group_values++;

    if (r->conf->nested == NGX_EXA_LDAP_NESTED_CHAIN) {
        return NGX_EXA_LR_NEXT;
    }

    if (v->bv_len >= sizeof(buf)) {
        r->stats.skipped++;
        return NGX_EXA_LR_NEXT;
    }

    len = ngx_exa_ldap_dn_norm((unsigned char *) v->bv_val, v->bv_len, buf);

    if (!ngx_exa_set_has(&r->all_groups, buf, len)) {
        added = ngx_exa_set_add(&r->members, buf, len);

        if (added < 0) {
            return ngx_exa_lr_nomem(r);
        }

        if (added && r->model) {
            added = ngx_exa_lr_model_member(r, buf, len, v);
            if (added != NGX_EXA_LR_NEXT) {
                return added;
            }
        }

        /* every member is a name at least */

        return ngx_exa_lr_fits(r, r->members.nelts, r->members.nelts,
                               "members");
    }

    /* a nested group */

    g = &r->groups[r->group];

    if (r->conf->nested != NGX_EXA_LDAP_NESTED_WALK
        || g->depth + 1 >= NGX_EXA_LR_DEPTH_MAX)
    {
        return NGX_EXA_LR_NEXT;
    }

    added = ngx_exa_set_add(&r->seen, buf, len);

    if (added < 0) {
        return ngx_exa_lr_nomem(r);
    }

    if (!added) {
        return NGX_EXA_LR_NEXT;          /* seen: a cycle or a diamond */
    }

    return ngx_exa_lr_queue(r, (unsigned char *) v->bv_val, v->bv_len,
                            g->depth + 1, 0, 0)
           ? NGX_EXA_LR_ERROR : NGX_EXA_LR_NEXT;
}


/*
 * Members by primary group are not in member (AD): the group's
 * primaryGroupToken, a number, becomes (primaryGroupID=N) in the users'
 * search.  The first one a group has counts; every range of member may
 * carry it again.
 */

static int
ngx_exa_lr_token(ngx_exa_lr_t *r, struct berval *v)
{
    size_t               i;
    ngx_exa_lr_group_t  *g;

    r->attr = NGX_EXA_LR_ATTR_NONE;        /* the first value only */

    g = &r->groups[r->group];

    if (g->token[0] || v->bv_len == 0 || v->bv_len >= sizeof(g->token)) {
        return NGX_EXA_LR_NEXT;
    }

    for (i = 0; i < v->bv_len; i++) {
        if (v->bv_val[i] < '0' || v->bv_val[i] > '9') {
            r->stats.refused++;
            return NGX_EXA_LR_NEXT;
        }
    }

    memcpy(g->token, v->bv_val, v->bv_len);
    g->token[v->bv_len] = '\0';

    return NGX_EXA_LR_NEXT;
}


/* a value of a name attribute: a key of the list */

static int
ngx_exa_lr_name(ngx_exa_lr_t *r, struct berval *v)
{
    int             rc, at;
    size_t          klen;
    unsigned char  *k, kbuf[NGX_EXA_KEY_MAX], tagged[NGX_EXA_KEY_MAX];

    /*
     * A value is read as exactly what its attribute holds, never as a
     * credential: a logon name has no domain and no "@", a user principal
     * name is "user@suffix", and nothing from the directory says
     * "DOMAIN\user" (it would lose its domain and become "user").
     */

    at = memchr(v->bv_val, '@', v->bv_len) != NULL;

    if (memchr(v->bv_val, '\\', v->bv_len)
        || (r->kind == NGX_EXA_LR_NAME_LOGON && at)
        || (r->kind == NGX_EXA_LR_NAME_UPN && !at))
    {
        r->stats.refused++;
        return NGX_EXA_LR_NEXT;
    }

    if (r->kind == NGX_EXA_LR_NAME_LOGON && r->ndomains) {

        /* Active Directory: a logon name is its domain's, "example\user" */

        if (r->netbios == NULL || v->bv_len >= sizeof(kbuf) - 16) {
            r->stats.refused++;
            return NGX_EXA_LR_NEXT;
        }

        klen = strlen(r->netbios);
        memcpy(tagged, r->netbios, klen);
        tagged[klen++] = '\\';
        memcpy(tagged + klen, v->bv_val, v->bv_len);

        rc = ngx_exa_name_entry(tagged, klen + v->bv_len, kbuf, &klen);

    } else {
        rc = ngx_exa_name_key(NULL, NULL, 0, (unsigned char *) v->bv_val,
                              v->bv_len, kbuf, &klen);
    }

    if (rc != NGX_EXA_NAME_OK) {
        r->stats.refused++;
        return NGX_EXA_LR_NEXT;
    }

    if (ngx_exa_mem_grow(&r->mem, (void **) &r->keys, &r->keys_size,
                         r->nkeys + 1, sizeof(ngx_exa_str_t))
        != 0)
    {
        return ngx_exa_lr_nomem(r);
    }

    k = ngx_exa_arena_alloc(&r->arena, klen);
    if (k == NULL) {
        return ngx_exa_lr_nomem(r);
    }

    memcpy(k, kbuf, klen);

    r->keys[r->nkeys].data = k;
    r->keys[r->nkeys].len = klen;
    r->nkeys++;
    r->keybytes += klen;

    return ngx_exa_lr_fits(r, r->nkeys, r->keybytes, "names");
}


/* a group read to make: a new group, or the next range of one */

int
ngx_exa_lr_queue(ngx_exa_lr_t *r, const unsigned char *dn, size_t len,
    unsigned depth, unsigned configured, size_t range)
{
    unsigned char       *p;
    ngx_exa_lr_group_t  *g;

    if (ngx_exa_mem_grow(&r->mem, (void **) &r->groups, &r->groups_size,
                         r->ngroups + 1, sizeof(ngx_exa_lr_group_t))
        != 0)
    {
        ngx_exa_lr_nomem(r);
        return -1;
    }

    p = ngx_exa_arena_alloc(&r->arena, len + 1);
    if (p == NULL) {
        ngx_exa_lr_nomem(r);
        return -1;
    }

    memcpy(p, dn, len);
    p[len] = '\0';

    g = &r->groups[r->ngroups++];

    memset(g, 0, sizeof(ngx_exa_lr_group_t));

    g->dn = p;
    g->len = len;
    g->depth = depth;
    g->configured = configured;
    g->range = range;

    return 0;
}

