/* libFuzzer target: any bytes as a policy file must give diagnostics or a ruleset, never a
 * crash, a leak or undefined behaviour. Build and run: make fuzz [FUZZ_SECONDS=60]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "compile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/pinhole-fuzz-XXXXXX.pin";
	int fd = mkstemps(path, 4);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	static const char *dirs[] = {"stdlib-apps"};
	struct compile_opts o = {.libdirs = dirs, .nlibdirs = 1};
	struct compilation c;
	if (compile_policy(path, &o, &c)) {
		FILE *devnull = fopen("/dev/null", "w");
		struct render_info info = {.policy = path, .version = "fuzz"};
		nft_render(&c.ir, &info, devnull);
		fclose(devnull);
	}
	FILE *devnull = fopen("/dev/null", "w");
	diag_print(&c.diags, devnull);
	fclose(devnull);
	compilation_free(&c);
	unlink(path);
	return 0;
}
