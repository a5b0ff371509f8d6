#pragma once

#include <QtGlobal>

#ifdef Q_OS_LINUX

#include <QAbstractEventDispatcher>

#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

class QSocketNotifier;

// An event dispatcher on Linux epoll, for the threads that carry many sockets
// (the core thread and the WebSocket workers).
//
// Qt's own dispatchers (glib and the UNIX one) hand every socket notifier of
// the thread to poll() at every wake-up, so one message costs O(open
// connections). Here a notifier is an epoll registration that changes only
// when the notifier is enabled or disabled; a wake-up costs O(ready sockets).
// Semantics follow Qt's: level-triggered notifiers, posted events sent first
// on each pass, wakeUp() from any thread, nested event loops, timers that do
// not fire twice in one pass and not recursively.
//
// Timers live in a binary heap ordered by due time (Qt's timer list inserts
// linearly, which costs at one timer per connection), indexed so that a timer
// is removed in O(log n) when it is killed.
class EpollEventDispatcher final : public QAbstractEventDispatcher
{
    Q_OBJECT
public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    struct Timer;
    // The notifiers of one descriptor, as registered with epoll.
    struct Descriptor
    {
        QSocketNotifier *read = nullptr;
        QSocketNotifier *write = nullptr;
        QSocketNotifier *exception = nullptr;
        uint32_t registeredEvents = 0; // what epoll has for this fd now
    };
    // Notifiers found ready by one epoll_wait, to be activated in order. A
    // notifier unregistered meanwhile is cleared from every live batch.
    using ActivationBatch = std::vector<QSocketNotifier *>;

    void updateRegistration(int fd, Descriptor &d, bool force);
    int waitForEvents(bool includeNotifiers, int timeoutMs, ActivationBatch &batch);
    int activateNotifiers(ActivationBatch &batch);
    void drainWakeUps();

    int activateTimers();
    int msUntilNextTimer() const;
    void heapPush(Timer *t);
    void heapRemove(Timer *t);
    void heapSiftUp(size_t i);
    void heapSiftDown(size_t i);
    bool heapBefore(const Timer *a, const Timer *b) const;

    int m_epollFd = -1;
    int m_wakeFd = -1; // eventfd: wakeUp() and posted events from any thread
    std::atomic<bool> m_wakeUpPending{false};
    std::atomic<bool> m_interrupted{false};

    std::vector<Descriptor> m_descriptors; // indexed by fd
    std::vector<ActivationBatch *> m_liveBatches; // one per nested processEvents
    std::vector<std::unique_ptr<ActivationBatch>> m_batchPool;

    std::unordered_map<int, std::unique_ptr<Timer>> m_timers; // by timer id
    std::unordered_multimap<QObject *, int> m_timersByObject;
    std::vector<Timer *> m_timerHeap;
    quint64 m_timerSequence = 0; // orders equal due times, tells new timers from old
};

#endif // Q_OS_LINUX
