#include "eventloop/epolleventdispatcher.h"

#ifdef Q_OS_LINUX

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimerEvent>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>

#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace {

constexpr qint64 kNsPerMs = 1000 * 1000;
constexpr qint64 kNsPerSecond = 1000 * kNsPerMs;
// How many ready descriptors one epoll_wait hands over; more stay ready
// (level-triggered) and come with the next pass.
constexpr int kMaxEventsPerWait = 256;
constexpr size_t kNotInHeap = size_t(-1);

qint64 monotonicNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

qint64 nearestSecondNs(qint64 ns)
{
    return (ns + kNsPerSecond / 2) / kNsPerSecond * kNsPerSecond;
}

} // namespace

struct EpollEventDispatcher::Timer
{
    int id = 0;
    int reportedIntervalMs = 0; // as registered, for registeredTimers()
    qint64 intervalNs = 0;
    Qt::TimerType type = Qt::CoarseTimer;
    QObject *object = nullptr;
    qint64 dueNs = 0;
    quint64 sequence = 0;
    size_t heapIndex = kNotInHeap;
    // Set while the timer's event is being delivered: points at the
    // deliverer's pointer, which unregisterTimer() clears.
    Timer **delivering = nullptr;

    // Qt's rules: a coarse timer of 20 s or more and a very coarse timer keep
    // whole seconds; the others keep their interval exactly.
    void schedule(qint64 nowNs, bool first)
    {
        if (type == Qt::VeryCoarseTimer) {
            if (first || dueNs + intervalNs < nowNs)
                dueNs = nearestSecondNs(nowNs) + intervalNs;
            else
                dueNs += intervalNs;
            return;
        }
        if (first)
            dueNs = nowNs + intervalNs;
        else if ((dueNs += intervalNs) < nowNs)
            dueNs = nowNs + intervalNs; // fell behind: skip, do not burst
    }
};

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
{
    m_epollFd = epoll_create1(EPOLL_CLOEXEC);
    if (m_epollFd < 0)
        qFatal("EpollEventDispatcher: epoll_create1 failed: %s", strerror(errno));
    m_wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_wakeFd < 0)
        qFatal("EpollEventDispatcher: eventfd failed: %s", strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = m_wakeFd;
    if (epoll_ctl(m_epollFd, EPOLL_CTL_ADD, m_wakeFd, &ev) < 0)
        qFatal("EpollEventDispatcher: cannot watch its eventfd: %s", strerror(errno));
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    close(m_wakeFd);
    close(m_epollFd);
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false, std::memory_order_relaxed);
    emit awake();
    QCoreApplication::sendPostedEvents();

    if (m_interrupted.load(std::memory_order_relaxed))
        return false;

    const bool includeNotifiers = !(flags & QEventLoop::ExcludeSocketNotifiers);
    int timeoutMs = 0;
    if (flags & QEventLoop::WaitForMoreEvents) {
        emit aboutToBlock();
        timeoutMs = msUntilNextTimer(); // -1: no timer, wait for an event
    }

    // A nested loop started from an activation gets a batch of its own; the
    // pool keeps their memory from one pass to the next.
    const size_t depth = m_liveBatches.size();
    if (m_batchPool.size() <= depth)
        m_batchPool.push_back(std::make_unique<ActivationBatch>());
    ActivationBatch &batch = *m_batchPool[depth];
    m_liveBatches.push_back(&batch);

    int handled = waitForEvents(includeNotifiers, timeoutMs, batch);
    handled += activateNotifiers(batch);
    m_liveBatches.pop_back();
    handled += activateTimers();
    return handled > 0;
}

int EpollEventDispatcher::waitForEvents(bool includeNotifiers, int timeoutMs, ActivationBatch &batch)
{
    if (!includeNotifiers) {
        // Sockets stay registered with epoll, so wait on the eventfd alone.
        pollfd wake{m_wakeFd, POLLIN, 0};
        if (poll(&wake, 1, timeoutMs) > 0) {
            drainWakeUps();
            return 1;
        }
        return 0;
    }

    epoll_event events[kMaxEventsPerWait];
    const int ready = epoll_wait(m_epollFd, events, kMaxEventsPerWait, timeoutMs);
    if (ready < 0) {
        if (errno != EINTR)
            qErrnoWarning("EpollEventDispatcher: epoll_wait failed");
        return 0;
    }
    int handled = 0;
    for (int i = 0; i < ready; ++i) {
        const int fd = events[i].data.fd;
        if (fd == m_wakeFd) {
            drainWakeUps();
            ++handled;
            continue;
        }
        if (size_t(fd) >= m_descriptors.size())
            continue;
        const Descriptor &d = m_descriptors[size_t(fd)];
        const uint32_t ev = events[i].events;
        // As Qt's poll() dispatcher: hang-up and error wake the reader; an
        // error also wakes the writer, and so does a hang-up when nobody
        // reads (else the fd would stay ready with no one to take it).
        if (d.read && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
            batch.push_back(d.read);
        if (d.write && (ev & (EPOLLOUT | EPOLLERR | (d.read ? 0u : uint32_t(EPOLLHUP)))))
            batch.push_back(d.write);
        if (d.exception && (ev & EPOLLPRI))
            batch.push_back(d.exception);
    }
    return handled;
}

int EpollEventDispatcher::activateNotifiers(ActivationBatch &batch)
{
    int activated = 0;
    // Index, not iterator: unregisterSocketNotifier() writes into the batch.
    for (size_t i = 0; i < batch.size(); ++i) {
        QSocketNotifier *notifier = batch[i];
        if (!notifier)
            continue;
        batch[i] = nullptr;
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++activated;
    }
    batch.clear();
    return activated;
}

void EpollEventDispatcher::drainWakeUps()
{
    eventfd_t count;
    eventfd_read(m_wakeFd, &count);
    // After the read: a wakeUp() from now on writes again. Events posted
    // before it are sent at the start of the next pass.
    m_wakeUpPending.store(false, std::memory_order_release);
}

void EpollEventDispatcher::wakeUp()
{
    // One write per wake-up, however many events are posted meanwhile.
    bool expected = false;
    if (m_wakeUpPending.compare_exchange_strong(expected, true, std::memory_order_acq_rel))
        eventfd_write(m_wakeFd, 1);
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.store(true, std::memory_order_relaxed);
    wakeUp();
}

// --- socket notifiers --------------------------------------------------------

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const qintptr fd = notifier->socket();
    if (fd < 0 || fd > INT_MAX) {
        qWarning("EpollEventDispatcher: cannot watch descriptor %lld", qlonglong(fd));
        return;
    }
    if (size_t(fd) >= m_descriptors.size())
        m_descriptors.resize(std::max(size_t(fd) + 1, m_descriptors.size() * 2));
    Descriptor &d = m_descriptors[size_t(fd)];
    QSocketNotifier **slot = notifier->type() == QSocketNotifier::Read ? &d.read
                             : notifier->type() == QSocketNotifier::Write ? &d.write
                                                                          : &d.exception;
    *slot = notifier;
    // Always tell epoll: the descriptor may have been closed and its number
    // reused since the table last changed, which drops the old registration.
    updateRegistration(int(fd), d, true);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const qintptr fd = notifier->socket();
    if (fd >= 0 && size_t(fd) < m_descriptors.size()) {
        Descriptor &d = m_descriptors[size_t(fd)];
        QSocketNotifier **slot = notifier->type() == QSocketNotifier::Read ? &d.read
                                 : notifier->type() == QSocketNotifier::Write ? &d.write
                                                                              : &d.exception;
        if (*slot == notifier) {
            *slot = nullptr;
            updateRegistration(int(fd), d, false);
        }
    }
    // A pending activation of a disabled or deleted notifier must not run.
    for (ActivationBatch *batch : m_liveBatches)
        std::replace(batch->begin(), batch->end(), notifier, static_cast<QSocketNotifier *>(nullptr));
}

void EpollEventDispatcher::updateRegistration(int fd, Descriptor &d, bool force)
{
    const uint32_t wanted = (d.read ? uint32_t(EPOLLIN) : 0u) | (d.write ? uint32_t(EPOLLOUT) : 0u)
                            | (d.exception ? uint32_t(EPOLLPRI) : 0u);
    if (wanted == d.registeredEvents && !force)
        return;
    epoll_event ev{};
    ev.events = wanted;
    ev.data.fd = fd;
    if (wanted == 0) {
        // ENOENT/EBADF: the descriptor was closed first, and the kernel has
        // already dropped it from the set.
        epoll_ctl(m_epollFd, EPOLL_CTL_DEL, fd, &ev);
    } else if (epoll_ctl(m_epollFd, d.registeredEvents ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
        // The table and the kernel disagree after an fd was closed and
        // reused behind our back: try the other way once.
        const int retry = errno == ENOENT ? EPOLL_CTL_ADD : errno == EEXIST ? EPOLL_CTL_MOD : -1;
        if (retry < 0 || epoll_ctl(m_epollFd, retry, fd, &ev) < 0)
            qErrnoWarning("EpollEventDispatcher: cannot watch descriptor %d", fd);
    }
    d.registeredEvents = wanted;
}

// --- timers ------------------------------------------------------------------

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    if (timerId < 1 || interval < 0 || !object) {
        qWarning("EpollEventDispatcher: invalid timer (id %d, interval %lld)", timerId, qlonglong(interval));
        return;
    }
    auto timer = std::make_unique<Timer>();
    Timer *t = timer.get();
    t->id = timerId;
    t->reportedIntervalMs = int(qMin<qint64>(interval, INT_MAX));
    t->object = object;
    t->type = timerType == Qt::CoarseTimer && interval >= 20000 ? Qt::VeryCoarseTimer : timerType;
    t->intervalNs = t->type == Qt::VeryCoarseTimer ? (interval + 500) / 1000 * kNsPerSecond : interval * kNsPerMs;
    t->schedule(monotonicNs(), true);
    t->sequence = ++m_timerSequence;
    if (!m_timers.emplace(timerId, std::move(timer)).second) {
        qWarning("EpollEventDispatcher: timer id %d registered twice", timerId);
        return;
    }
    m_timersByObject.emplace(object, timerId);
    heapPush(t);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    Timer *t = it->second.get();
    if (t->delivering)
        *t->delivering = nullptr;
    heapRemove(t);
    auto [first, last] = m_timersByObject.equal_range(t->object);
    for (auto o = first; o != last; ++o) {
        if (o->second == timerId) {
            m_timersByObject.erase(o);
            break;
        }
    }
    m_timers.erase(it);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    auto [first, last] = m_timersByObject.equal_range(object);
    if (first == last)
        return false;
    std::vector<int> ids;
    for (auto o = first; o != last; ++o)
        ids.push_back(o->second);
    for (int id : ids)
        unregisterTimer(id);
    return true;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> list;
    auto [first, last] = m_timersByObject.equal_range(object);
    for (auto o = first; o != last; ++o) {
        const Timer *t = m_timers.at(o->second).get();
        list.append(TimerInfo(t->id, t->reportedIntervalMs, t->type));
    }
    return list;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return -1;
    const qint64 left = it->second->dueNs - monotonicNs();
    return left <= 0 ? 0 : int(qMin<qint64>((left + kNsPerMs - 1) / kNsPerMs, INT_MAX));
}

int EpollEventDispatcher::msUntilNextTimer() const
{
    if (m_timerHeap.empty())
        return -1;
    const qint64 left = m_timerHeap.front()->dueNs - monotonicNs();
    // Rounded up: waking before the timer is due would spin.
    return left <= 0 ? 0 : int(qMin<qint64>((left + kNsPerMs - 1) / kNsPerMs, INT_MAX));
}

int EpollEventDispatcher::activateTimers()
{
    if (m_timerHeap.empty())
        return 0;
    const qint64 now = monotonicNs();
    // Timers (re)scheduled during this pass carry a later sequence and wait
    // for the next one, so a zero-interval timer fires once per pass.
    const quint64 passSequence = m_timerSequence;
    int fired = 0;
    while (!m_timerHeap.empty()) {
        Timer *t = m_timerHeap.front();
        if (t->dueNs > now || t->sequence > passSequence)
            break;
        // Out of the heap while its event is delivered: a nested loop in the
        // handler neither fires it again nor spins on it.
        heapRemove(t);
        t->schedule(now, false);
        Timer *alive = t;
        t->delivering = &alive;
        QTimerEvent event(t->id);
        QCoreApplication::sendEvent(t->object, &event);
        ++fired;
        if (alive) {
            alive->delivering = nullptr;
            alive->sequence = ++m_timerSequence;
            heapPush(alive);
        }
    }
    return fired;
}

bool EpollEventDispatcher::heapBefore(const Timer *a, const Timer *b) const
{
    return a->dueNs < b->dueNs || (a->dueNs == b->dueNs && a->sequence < b->sequence);
}

void EpollEventDispatcher::heapPush(Timer *t)
{
    t->heapIndex = m_timerHeap.size();
    m_timerHeap.push_back(t);
    heapSiftUp(t->heapIndex);
}

void EpollEventDispatcher::heapRemove(Timer *t)
{
    const size_t i = t->heapIndex;
    if (i == kNotInHeap)
        return;
    t->heapIndex = kNotInHeap;
    Timer *last = m_timerHeap.back();
    m_timerHeap.pop_back();
    if (last == t)
        return;
    m_timerHeap[i] = last;
    last->heapIndex = i;
    heapSiftUp(i);
    heapSiftDown(last->heapIndex);
}

void EpollEventDispatcher::heapSiftUp(size_t i)
{
    Timer *t = m_timerHeap[i];
    while (i > 0) {
        const size_t parent = (i - 1) / 2;
        if (!heapBefore(t, m_timerHeap[parent]))
            break;
        m_timerHeap[i] = m_timerHeap[parent];
        m_timerHeap[i]->heapIndex = i;
        i = parent;
    }
    m_timerHeap[i] = t;
    t->heapIndex = i;
}

void EpollEventDispatcher::heapSiftDown(size_t i)
{
    Timer *t = m_timerHeap[i];
    const size_t n = m_timerHeap.size();
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && heapBefore(m_timerHeap[child + 1], m_timerHeap[child]))
            ++child;
        if (!heapBefore(m_timerHeap[child], t))
            break;
        m_timerHeap[i] = m_timerHeap[child];
        m_timerHeap[i]->heapIndex = i;
        i = child;
    }
    m_timerHeap[i] = t;
    t->heapIndex = i;
}

#endif // Q_OS_LINUX
