package main

import (
	"fmt"
	"os"
	"testing"
)

// skipUnlessRequired skips a test that cannot run here, saying why, unless
// the environment variable require is set: then it fails the test instead.
// .ci/run sets every such variable (it runs as root, with the tools
// installed), so in CI no test hides behind a skip:
//
//	ROTLOG_REQUIRE_ROOT        fault tests that mount a tmpfs or a FUSE file
//	                           system, or make a directory immutable
//	ROTLOG_REQUIRE_SUPERVISORD TestSupervisord
//	ROTLOG_REQUIRE_MANDOC      TestManPageLint
//	ROTLOG_REQUIRE_APACHE      TestApacheGraceful
//	ROTLOG_REQUIRE_NGINX       TestNginxFIFO
//	ROTLOG_REQUIRE_RSYSLOG     TestRsyslogShipper
//	ROTLOG_REQUIRE_SOCAT       TestFanInSocat
func skipUnlessRequired(t *testing.T, require, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if os.Getenv(require) != "" {
		t.Fatalf("%s is set, but this test cannot run: %s", require, why)
	}
	t.Skipf("%s; set %s=1 to make this a failure", why, require)
}
