#include "front/descriptorlimit.h"

#include "logging.h"

#include <QString>

#include <limits>

#ifdef Q_OS_UNIX
#include <sys/resource.h>
#endif

long long raiseDescriptorLimit()
{
#ifdef Q_OS_UNIX
    rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return -1;
    const rlim_t before = limit.rlim_cur;
    if (limit.rlim_cur != limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        // macOS refuses a soft limit over OPEN_MAX even when the hard limit is higher.
        if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
            limit.rlim_cur = before;
    }
    const auto shown = [](rlim_t v) {
        return v == RLIM_INFINITY ? QStringLiteral("unlimited") : QString::number(qulonglong(v));
    };
    qCDebug(lcServer).noquote() << QStringLiteral("open-file limit %1 (was %2, hard limit %3)")
                                       .arg(shown(limit.rlim_cur), shown(before), shown(limit.rlim_max));
    if (limit.rlim_cur == RLIM_INFINITY)
        return std::numeric_limits<long long>::max();
    return static_cast<long long>(limit.rlim_cur);
#else
    return -1;
#endif
}
