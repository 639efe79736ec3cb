# Builds ngx_http_exchange_access_module.so against the nginx that is
# installed (Debian's nginx with nginx-dev), or against any nginx source
# tree given as NGINX_SRC.  "make help" lists the targets.

NGINX_SRC  ?= /usr/share/nginx/src
BUILD      ?= build
NGINX_OBJS  = $(BUILD)/nginx/objs
MODULE_SO   = $(NGINX_OBJS)/ngx_http_exchange_access_module.so
SOURCES     = config $(wildcard ngx_exchange_access_module/*.[ch])
SRCLIST     = $(sort $(wildcard ngx_exchange_access_module/*.[ch]))

.PHONY: all module asan asan-test test demo unit fuzz bench deb clean help \
        FORCE

all: module

module: $(MODULE_SO)

# config lists the files it finds: a file added or removed reconfigures
$(BUILD)/sources: FORCE
	@mkdir -p $(BUILD)
	@echo "$(SRCLIST)" | cmp -s - $@ || echo "$(SRCLIST)" > $@

$(NGINX_OBJS)/Makefile: config $(BUILD)/sources
	rm -rf $(BUILD)/nginx
	mkdir -p $(BUILD)
	cp -r $(NGINX_SRC) $(BUILD)/nginx
	cd $(BUILD)/nginx && bash -ec '\
	    if [ -f conf_flags ]; then . ./conf_flags; \
	    else NGX_CONF_FLAGS=(--with-compat --with-threads \
	        --with-http_ssl_module --with-http_realip_module); fi; \
	    ./configure "$${NGX_CONF_FLAGS[@]}" \
	        --add-dynamic-module=$(CURDIR) > ../configure.log'

$(MODULE_SO): $(NGINX_OBJS)/Makefile $(SOURCES)
	$(MAKE) -C $(BUILD)/nginx -f objs/Makefile modules
	@echo "built $(MODULE_SO)"

# nginx with the module compiled in, both built with AddressSanitizer and
# UndefinedBehaviorSanitizer, from Debian's nginx source package
# (util/nginx-source.sh fetches it) configured with the packaged binary's
# flags (conf_flags from nginx-dev): build/asan/nginx/objs/nginx.  The
# module is static here: a dynamic module is unloaded (dlclose) when a
# configuration goes, before LeakSanitizer could name its frames.
ASAN_SRC   ?= $(BUILD)/debian-src/src
ASAN_BUILD  = $(BUILD)/asan
ASAN_OBJS   = $(ASAN_BUILD)/nginx/objs
ASAN_CC    ?= clang
ASAN_FLAGS  = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fsanitize-ignorelist=$(CURDIR)/t/sanitizer/ubsan-ignorelist.txt

asan: $(ASAN_OBJS)/nginx

$(ASAN_SRC)/src/core/nginx.c:
	bash util/nginx-source.sh

$(ASAN_OBJS)/Makefile: config $(BUILD)/sources $(ASAN_SRC)/src/core/nginx.c \
        t/sanitizer/ubsan-ignorelist.txt
	rm -rf $(ASAN_BUILD)/nginx
	mkdir -p $(ASAN_BUILD)
	cp -r $(ASAN_SRC) $(ASAN_BUILD)/nginx
	cd $(ASAN_BUILD)/nginx && bash -ec '\
	    . $(NGINX_SRC)/conf_flags; \
	    ./configure --with-cc=$(ASAN_CC) "$${NGX_CONF_FLAGS[@]}" \
	        --with-cc-opt="$(ASAN_FLAGS)" \
	        --with-ld-opt="-fsanitize=address,undefined" \
	        --add-module=$(CURDIR) > ../configure.log'

$(ASAN_OBJS)/nginx: $(ASAN_OBJS)/Makefile $(SOURCES)
	$(MAKE) -C $(ASAN_BUILD)/nginx -f objs/Makefile binary

test:
	bash util/test.sh

asan-test:
	TEST_NGINX_USE_ASAN=1 bash util/test.sh

demo:
	bash util/demo.sh

unit:
	$(MAKE) -C t/unit

# the Debian package, built with dh_nginx (nginx-dev's dh-sequence-nginx)
# from a copy of the tree (HEAD in a git clone, else the tree without
# build products); the .deb lands in build/deb/
deb:
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/src
	if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then \
	    git archive --format=tar HEAD; \
	else \
	    tar -c --exclude=./build --exclude='./t/servroot*' \
	        --exclude=./fuzz/out --exclude=./bench/out .; \
	fi | tar -x -C $(BUILD)/deb/src
	cd $(BUILD)/deb/src && dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

clean:
	rm -rf $(BUILD) t/servroot*

help:
	@echo "make            build the module (.so) against the installed nginx"
	@echo "make test       install what the tests need and run the suite"
	@echo "make asan       build nginx and the module with ASan and UBSan"
	@echo "make asan-test  run the nginx suites against that build"
	@echo "make demo       start the demo proxy on 127.0.0.1"
	@echo "make unit       run the unit tests of the pure parsers"
	@echo "make deb        build the Debian package into build/deb/"
	@echo "make clean      remove build products"
