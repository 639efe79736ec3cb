
/*
 * Copyright (C) The ngx_exchange_access_module authors
 */


#ifndef _NGX_EXA_HIDDEN_H_INCLUDED_
#define _NGX_EXA_HIDDEN_H_INCLUDED_


/*
 * The module's functions and data are its own: every header declares
 * them between NGX_EXA_HIDDEN_BEGIN and NGX_EXA_HIDDEN_END, after the
 * headers it includes.  In the dynamic module, a call from one of its
 * files to another then goes straight to the function, not through the
 * procedure linkage table, and a function may be inlined into its own
 * file's callers (a symbol the module exports could be replaced at load
 * time, so the compiler may do neither).  nginx finds the module through
 * ngx_modules, in the file nginx's build writes, which this does not
 * cover.  Nothing changes in a static build.
 */

#if (defined __GNUC__ && __GNUC__ >= 4)
#define NGX_EXA_HIDDEN_BEGIN    _Pragma("GCC visibility push(hidden)")
#define NGX_EXA_HIDDEN_END      _Pragma("GCC visibility pop")
#else
#define NGX_EXA_HIDDEN_BEGIN
#define NGX_EXA_HIDDEN_END
#endif


#endif /* _NGX_EXA_HIDDEN_H_INCLUDED_ */
