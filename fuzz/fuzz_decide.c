/*
 * libFuzzer harness for the decision: the input is a run of facts, raw
 * (out of their enums too).  Each decision must be in range with a
 * reason that fits it, or ask for a fact not known yet; answering what
 * it asks from the input must end in a decision within four facts.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ngx_exa_decide.h"


static int
fact(const uint8_t *data, size_t size, size_t i)
{
    /* mostly in range, sometimes anything */

    if (i >= size) {
        return 1;
    }

    return (data[i] & 0x80) ? (int8_t) data[i] : data[i] % 6;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                d, step, *slot, answer;
    ngx_exa_facts_t    f;
    ngx_exa_verdict_t  v;

    if (size < 2) {
        return 0;
    }

    memset(&f, 0, sizeof(f));

    f.audit = data[0] & 1;
    f.restricted = (data[0] >> 1) & 1;
    f.confused = (data[0] >> 2) & 1;
    f.confusion_deny = (data[0] >> 3) & 1;
    f.unidentified_deny = (data[0] >> 4) & 1;
    f.identity = fact(data, size, 1);

    for (step = 0; step < 8; step++) {

        d = ngx_exa_decide(&f, &v);

        if (d != v.decision) {
            abort();
        }

        if (d != NGX_EXA_DECISION_NONE) {

            if (d < 0 || d >= NGX_EXA_DECISION_N
                || v.reason <= NGX_EXA_REASON_NONE
                || v.reason >= NGX_EXA_REASON_N
                || v.need != NGX_EXA_NEED_NOTHING
                || (d == NGX_EXA_DECISION_ALLOW
                    && v.reason != NGX_EXA_REASON_MEMBER)
                || (d == NGX_EXA_DECISION_AUDIT && !f.audit)
                || (d == NGX_EXA_DECISION_DENY && f.audit))
            {
                abort();
            }

            return 0;
        }

        switch (v.need) {
        case NGX_EXA_NEED_INTERNAL:
            slot = &f.internal;
            break;
        case NGX_EXA_NEED_CREDENTIAL:
            slot = &f.header;
            break;
        case NGX_EXA_NEED_USER:
            slot = &f.user;
            break;
        case NGX_EXA_NEED_LIST:
            slot = &f.list;
            break;
        default:
            abort();
        }

        if (*slot != 0) {
            abort();
        }

        answer = fact(data, size, 2 + step);
        *slot = answer ? answer : 1;
    }

    abort();
}
