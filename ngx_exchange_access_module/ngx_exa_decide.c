
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#include "ngx_exa_decide.h"


static int ngx_exa_named(const ngx_exa_facts_t *f, ngx_exa_verdict_t *v);
static int ngx_exa_unidentified(const ngx_exa_facts_t *f,
    ngx_exa_verdict_t *v);
static int ngx_exa_verdict(const ngx_exa_facts_t *f, ngx_exa_verdict_t *v,
    int decision, int reason);
static int ngx_exa_need(ngx_exa_verdict_t *v, int need);


/*
 * README.md, "How a request is decided", row by row: the first that
 * matches decides.  A fact outside its enum counts as the one that denies
 * (or, for the policies, as what the policy says of an unreadable
 * credential).
 */

int
ngx_exa_decide(const ngx_exa_facts_t *f, ngx_exa_verdict_t *v)
{
    /* a connection whose user left a list is refused, whatever it asks */

    if (f->identity == NGX_EXA_IDENTITY_REVOKED) {
        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_DENY,
                               NGX_EXA_REASON_REVOKED);
    }

    /* path confusion is refused from outside, restricted or not */

    if (f->confused && f->confusion_deny) {

        switch (f->internal) {

        case NGX_EXA_INTERNAL_UNKNOWN:
            return ngx_exa_need(v, NGX_EXA_NEED_INTERNAL);

        case NGX_EXA_INTERNAL_YES:
            return ngx_exa_verdict(f, v, NGX_EXA_DECISION_PASS,
                                   NGX_EXA_REASON_INTERNAL);

        default:
            return ngx_exa_verdict(f, v, NGX_EXA_DECISION_DENY,
                                   NGX_EXA_REASON_PATH_CONFUSION);
        }
    }

    if (!f->restricted) {
        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_PASS,
                               NGX_EXA_REASON_UNRESTRICTED);
    }

    switch (f->internal) {

    case NGX_EXA_INTERNAL_UNKNOWN:
        return ngx_exa_need(v, NGX_EXA_NEED_INTERNAL);

    case NGX_EXA_INTERNAL_YES:
        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_PASS,
                               NGX_EXA_REASON_INTERNAL);
    }

    switch (f->header) {

    case NGX_EXA_HEADER_UNKNOWN:
        return ngx_exa_need(v, NGX_EXA_NEED_CREDENTIAL);

    case NGX_EXA_HEADER_NONE:
        break;

    case NGX_EXA_HEADER_USER:
        return ngx_exa_named(f, v);

    case NGX_EXA_HEADER_HANDSHAKE:

        /* nobody to decide on yet: the backend answers with a challenge */

        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_PASS,
                               NGX_EXA_REASON_HANDSHAKE);

    default:
        return ngx_exa_unidentified(f, v);
    }

    /* no header: the identity the backend accepted on the connection */

    switch (f->identity) {

    case NGX_EXA_IDENTITY_NONE:

        /* the backend challenges */

        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_PASS,
                               NGX_EXA_REASON_NO_CREDENTIAL);

    case NGX_EXA_IDENTITY_USER:
        return ngx_exa_named(f, v);

    default:
        return ngx_exa_unidentified(f, v);
    }
}


/* a credential that names a user: its name, then the list */

static int
ngx_exa_named(const ngx_exa_facts_t *f, ngx_exa_verdict_t *v)
{
    switch (f->user) {

    case NGX_EXA_USER_UNKNOWN:
        return ngx_exa_need(v, NGX_EXA_NEED_USER);

    case NGX_EXA_USER_OK:
        break;

    case NGX_EXA_USER_FOREIGN:
        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_DENY,
                               NGX_EXA_REASON_FOREIGN_DOMAIN);

    default:
        return ngx_exa_unidentified(f, v);
    }

    switch (f->list) {

    case NGX_EXA_LIST_UNKNOWN:
        return ngx_exa_need(v, NGX_EXA_NEED_LIST);

    case NGX_EXA_LIST_MEMBER:
        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_ALLOW,
                               NGX_EXA_REASON_MEMBER);

    case NGX_EXA_LIST_NOT_MEMBER:
        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_DENY,
                               NGX_EXA_REASON_NOT_MEMBER);

    default:

        /* never loaded: fail closed */

        return ngx_exa_verdict(f, v, NGX_EXA_DECISION_DENY,
                               NGX_EXA_REASON_LIST_UNAVAILABLE);
    }
}


/* exchange_access_unidentified: deny, or pass for the backend to decide */

static int
ngx_exa_unidentified(const ngx_exa_facts_t *f, ngx_exa_verdict_t *v)
{
    return ngx_exa_verdict(f, v, f->unidentified_deny
                                 ? NGX_EXA_DECISION_DENY
                                 : NGX_EXA_DECISION_PASS,
                           NGX_EXA_REASON_UNIDENTIFIED);
}


/* in audit mode a denial is forwarded, and said */

static int
ngx_exa_verdict(const ngx_exa_facts_t *f, ngx_exa_verdict_t *v,
    int decision, int reason)
{
    if (decision == NGX_EXA_DECISION_DENY && f->audit) {
        decision = NGX_EXA_DECISION_AUDIT;
    }

    v->decision = decision;
    v->reason = reason;
    v->need = NGX_EXA_NEED_NOTHING;

    return decision;
}


static int
ngx_exa_need(ngx_exa_verdict_t *v, int need)
{
    v->decision = NGX_EXA_DECISION_NONE;
    v->reason = NGX_EXA_REASON_NONE;
    v->need = need;

    return NGX_EXA_DECISION_NONE;
}
