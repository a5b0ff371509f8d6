#pragma once

// Every connection costs the server a file descriptor, and the usual soft
// limit (1024) is far below what the pending-socket and connection limits
// allow. Called once at process start by the executables that serve.
//
// POSIX: raises RLIMIT_NOFILE's soft limit to the hard limit and returns the
// soft limit in force afterwards (-1 when it cannot be read). Elsewhere: -1,
// nothing changes.
long long raiseDescriptorLimit();
