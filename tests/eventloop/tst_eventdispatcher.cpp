// The rules an event dispatcher must keep for Qt and for the server, written
// against the public QAbstractEventDispatcher/QSocketNotifier/QTimer API only,
// so that one source checks two dispatchers: built with
// SWITCHBOARD_TEST_EPOLL_DISPATCHER it installs Switchboard's epoll dispatcher
// on the main thread and on every worker thread it starts; built without, it
// leaves Qt's own in place. Passing on Qt's dispatcher is what shows that a
// test asks for Qt's semantics and nothing more.
//
// Every wait is bounded by a deadline far above what a working dispatcher
// needs: these are liveness and ordering checks, never speed checks.

#ifdef SWITCHBOARD_TEST_EPOLL_DISPATCHER
#include "eventloop/epolleventdispatcher.h"
#endif

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPointer>
#include <QSemaphore>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QThread>
#include <QTimer>
#include <QWebSocket>
#include <QWebSocketServer>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <limits>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// The dispatcher under test for a new thread, or nullptr for Qt's own choice.
QAbstractEventDispatcher *createTestedDispatcher()
{
#ifdef SWITCHBOARD_TEST_EPOLL_DISPATCHER
    return new EpollEventDispatcher;
#else
    return nullptr;
#endif
}

bool isTestedDispatcher(QAbstractEventDispatcher *dispatcher)
{
#ifdef SWITCHBOARD_TEST_EPOLL_DISPATCHER
    return dynamic_cast<EpollEventDispatcher *>(dispatcher) != nullptr;
#else
    return dispatcher && QByteArray(dispatcher->metaObject()->className()).startsWith("QEventDispatcher");
#endif
}

void setNonBlocking(int fd)
{
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Two ends of a real descriptor: notifiers watch `local`, the test drives it
// from `peer`. For an eventfd both are the same descriptor.
struct Channel
{
    enum Kind { UnixSocket, Pipe, EventFd, Tcp };
    Kind kind = UnixSocket;
    int local = -1;
    int peer = -1;

    Channel() = default;
    Channel(const Channel &) = delete;
    Channel &operator=(const Channel &) = delete;
    ~Channel() { close(); }

    bool open(Kind k)
    {
        kind = k;
        switch (kind) {
        case UnixSocket: {
            int fds[2];
            if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
                return false;
            local = fds[0];
            peer = fds[1];
            return true;
        }
        case Pipe: {
            int fds[2];
            if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
                return false;
            local = fds[0];
            peer = fds[1];
            return true;
        }
        case EventFd:
            local = peer = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            return local >= 0;
        case Tcp:
            return openTcp();
        }
        return false;
    }

    // Makes `local` readable.
    bool post() const
    {
        if (kind == EventFd) {
            const quint64 one = 1;
            return ::write(peer, &one, sizeof one) == sizeof one;
        }
        return ::write(peer, "x", 1) == 1;
    }

    // Reads everything `local` has; returns the byte count.
    qint64 drain() const { return drainFd(local); }

    static qint64 drainFd(int fd)
    {
        char buffer[65536];
        qint64 total = 0;
        for (;;) {
            const ssize_t n = ::read(fd, buffer, sizeof buffer);
            if (n <= 0)
                return total;
            total += n;
        }
    }

    // Writes to `local` until its send buffer is full; returns the byte count.
    qint64 fillLocalSendBuffer() const
    {
        static const QByteArray chunk(65536, 'f');
        qint64 total = 0;
        for (;;) {
            const ssize_t n = ::write(local, chunk.constData(), chunk.size());
            if (n <= 0)
                return total;
            total += n;
        }
    }

    void close()
    {
        if (local >= 0)
            ::close(local);
        if (peer >= 0 && peer != local)
            ::close(peer);
        local = peer = -1;
    }

private:
    bool openTcp()
    {
        const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener < 0)
            return false;
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        bool ok = ::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0
                && ::listen(listener, 1) == 0
                && ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) == 0;
        if (ok) {
            peer = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            ok = peer >= 0 && ::connect(peer, reinterpret_cast<sockaddr *>(&address), sizeof address) == 0;
        }
        if (ok) {
            local = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            ok = local >= 0;
            setNonBlocking(peer);
        }
        ::close(listener);
        return ok;
    }
};

// Runs `passes` loop passes that do not wait.
void runPasses(int passes, QEventLoop::ProcessEventsFlags flags = QEventLoop::AllEvents)
{
    for (int i = 0; i < passes; ++i)
        QCoreApplication::processEvents(flags);
}

// Passes plus a short real wait, for "nothing more happens" checks.
void settle()
{
    runPasses(5);
    QTest::qWait(30);
    runPasses(5);
}

// exec() with a deadline; false when the deadline ended the loop.
bool execWithin(QEventLoop &loop, int deadlineMs)
{
    QTimer deadline;
    deadline.setSingleShot(true);
    QObject::connect(&deadline, &QTimer::timeout, &loop, [&loop] { loop.exit(1); });
    deadline.start(deadlineMs);
    return loop.exec() == 0;
}

// A single-shot flag for waits that would otherwise hang the test.
struct Deadline
{
    explicit Deadline(int ms)
    {
        timer.setSingleShot(true);
        QObject::connect(&timer, &QTimer::timeout, &timer, [this] { expired = true; });
        timer.start(ms);
    }
    QTimer timer;
    bool expired = false;
};

// A thread whose event loop runs on the dispatcher under test.
struct WorkerThread
{
    WorkerThread()
    {
        installed = createTestedDispatcher();
        if (installed)
            thread.setEventDispatcher(installed);
        thread.start();
        context = new QObject;
        context->moveToThread(&thread);
    }
    ~WorkerThread()
    {
        context->deleteLater();
        thread.quit();
        thread.wait();
    }
    // Runs `function` on the worker and waits for it. A worker that never
    // runs it (a lost wake-up) ends the test here with a clear message rather
    // than at the watchdog.
    template <typename F>
    void runBlocking(F function)
    {
        auto done = std::make_shared<QSemaphore>();
        QMetaObject::invokeMethod(context, [function, done]() mutable {
            function();
            done->release();
        }, Qt::QueuedConnection);
        if (!done->tryAcquire(1, 10000))
            qFatal("the worker thread did not run a queued call within 10 s");
    }
    QThread thread;
    QObject *context = nullptr;
    QAbstractEventDispatcher *installed = nullptr;
};

class OrderEvent : public QEvent
{
public:
    static QEvent::Type eventType()
    {
        static const auto type = QEvent::Type(QEvent::registerEventType());
        return type;
    }
    explicit OrderEvent(int n) : QEvent(eventType()), number(n) {}
    const int number;
};

// Records the numbers of the OrderEvents it receives and calls a hook.
class EventRecorder : public QObject
{
public:
    std::vector<int> received;
    std::function<void(int)> onReceived;

protected:
    bool event(QEvent *e) override
    {
        if (e->type() != OrderEvent::eventType())
            return QObject::event(e);
        const int number = static_cast<OrderEvent *>(e)->number;
        received.push_back(number);
        if (onReceived)
            onReceived(number);
        return true;
    }
};

// Counts its timerEvents and runs a hook in each.
class TimerHost : public QObject
{
public:
    std::vector<int> fired;
    std::function<void(int)> onTimer;

protected:
    void timerEvent(QTimerEvent *e) override
    {
        fired.push_back(e->timerId());
        if (onTimer)
            onTimer(e->timerId());
    }
};

// Repeating timer counted from any thread.
class ThreadTimerCounter : public QObject
{
public:
    std::atomic<int> count{0};
    std::atomic<QThread *> lastThread{nullptr};

protected:
    void timerEvent(QTimerEvent *) override
    {
        lastThread = QThread::currentThread();
        ++count;
    }
};

} // namespace

class EventDispatcherTest : public QObject
{
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QAbstractEventDispatcher *dispatcher = QCoreApplication::eventDispatcher();
        QVERIFY(dispatcher);
        qInfo("dispatcher under test: %s", dispatcher->metaObject()->className());
        QVERIFY2(isTestedDispatcher(dispatcher), dispatcher->metaObject()->className());
    }

    void workerThreadsRunTheTestedDispatcher()
    {
        WorkerThread worker;
        QAbstractEventDispatcher *inThread = nullptr;
        worker.runBlocking([&] { inThread = QAbstractEventDispatcher::instance(); });
        QVERIFY(isTestedDispatcher(inThread));
        if (worker.installed)
            QCOMPARE(inThread, worker.installed);
        QVERIFY(inThread != QCoreApplication::eventDispatcher());
    }

    // --- socket notifiers -------------------------------------------------

    void readNotifierIsLevelTriggered_data()
    {
        QTest::addColumn<int>("kind");
        QTest::newRow("socketpair") << int(Channel::UnixSocket);
        QTest::newRow("pipe") << int(Channel::Pipe);
        QTest::newRow("eventfd") << int(Channel::EventFd);
        QTest::newRow("tcp") << int(Channel::Tcp);
    }
    void readNotifierIsLevelTriggered()
    {
        QFETCH(int, kind);
        Channel channel;
        QVERIFY(channel.open(Channel::Kind(kind)));
        QSocketNotifier notifier(channel.local, QSocketNotifier::Read);
        int activations = 0;
        connect(&notifier, &QSocketNotifier::activated, this, [&] { ++activations; });

        settle();
        QCOMPARE(activations, 0); // nothing to read yet

        QVERIFY(channel.post());
        QTRY_VERIFY(activations > 0);
        // Unread data is reported again on every pass, as poll() would.
        for (int pass = 0; pass < 5; ++pass) {
            const int before = activations;
            QCoreApplication::processEvents();
            QVERIFY2(activations > before, qPrintable(QStringLiteral("no activation on pass %1").arg(pass)));
        }

        QVERIFY(channel.drain() > 0);
        const int afterRead = activations;
        settle();
        QCOMPARE(activations, afterRead);

        // and it comes back with the next data
        QVERIFY(channel.post());
        QTRY_VERIFY(activations > afterRead);
    }

    void writeNotifierFollowsSendBufferSpace()
    {
        Channel channel;
        QVERIFY(channel.open(Channel::UnixSocket));
        QSocketNotifier writable(channel.local, QSocketNotifier::Write);
        int activations = 0;
        connect(&writable, &QSocketNotifier::activated, this, [&] { ++activations; });
        QTRY_VERIFY(activations > 0); // an empty send buffer is writable

        writable.setEnabled(false);
        QVERIFY(channel.fillLocalSendBuffer() > 0);
        activations = 0;
        writable.setEnabled(true);
        settle();
        QCOMPARE(activations, 0); // full: not writable

        QVERIFY(Channel::drainFd(channel.peer) > 0); // the peer reads, space again
        QTRY_VERIFY(activations > 0);
    }

    void disabledNotifierIsQuietUntilEnabled()
    {
        Channel channel;
        QVERIFY(channel.open(Channel::UnixSocket));
        QSocketNotifier notifier(channel.local, QSocketNotifier::Read);
        int activations = 0;
        connect(&notifier, &QSocketNotifier::activated, this, [&] { ++activations; });
        QVERIFY(channel.post());
        QTRY_VERIFY(activations > 0);

        notifier.setEnabled(false);
        activations = 0;
        settle();
        QCOMPARE(activations, 0);

        // toggled several times between passes: the last state counts
        notifier.setEnabled(true);
        notifier.setEnabled(false);
        notifier.setEnabled(true);
        QTRY_VERIFY(activations > 0);
        notifier.setEnabled(false);
        notifier.setEnabled(true);
        notifier.setEnabled(false);
        activations = 0;
        settle();
        QCOMPARE(activations, 0);

        // disabled from inside its own activation, with the data still unread
        notifier.disconnect(this);
        connect(&notifier, &QSocketNotifier::activated, this, [&] {
            ++activations;
            notifier.setEnabled(false);
        });
        notifier.setEnabled(true);
        QTRY_VERIFY(activations > 0);
        settle();
        QCOMPARE(activations, 1);

        // enabled again: the unread data is still there and reported
        notifier.setEnabled(true);
        QTRY_COMPARE(activations, 2);
    }

    void readAndWriteNotifiersOnOneFdAreIndependent()
    {
        Channel channel;
        QVERIFY(channel.open(Channel::UnixSocket));
        auto reader = std::make_unique<QSocketNotifier>(channel.local, QSocketNotifier::Read);
        auto writer = std::make_unique<QSocketNotifier>(channel.local, QSocketNotifier::Write);
        int reads = 0;
        int writes = 0;
        connect(reader.get(), &QSocketNotifier::activated, this, [&] { ++reads; });
        connect(writer.get(), &QSocketNotifier::activated, this, [&] { ++writes; });

        // nothing to read, room to write: only the writer
        QTRY_VERIFY(writes > 0);
        settle();
        QCOMPARE(reads, 0);

        // writer off, data in: only the reader
        writer->setEnabled(false);
        writes = 0;
        QVERIFY(channel.post());
        QTRY_VERIFY(reads > 0);
        settle();
        QCOMPARE(writes, 0);

        // reader off, writer on, data still unread: only the writer
        reader->setEnabled(false);
        writer->setEnabled(true);
        reads = 0;
        QTRY_VERIFY(writes > 0);
        settle();
        QCOMPARE(reads, 0);

        // both on: both
        reader->setEnabled(true);
        reads = writes = 0;
        QTRY_VERIFY(reads > 0 && writes > 0);

        // the reader gone, the writer goes on; the writer gone, a new reader works
        reader.reset();
        writes = 0;
        QTRY_VERIFY(writes > 0);
        writer.reset();
        settle();
        QSocketNotifier newReader(channel.local, QSocketNotifier::Read);
        int newReads = 0;
        connect(&newReader, &QSocketNotifier::activated, this, [&] { ++newReads; });
        QTRY_VERIFY(newReads > 0);
    }

    void exceptionNotifierIsHarmless()
    {
        // A dispatcher may ignore exception notifiers; it must not fail on one,
        // nor let it disturb the read notifier of the same descriptor.
        Channel channel;
        QVERIFY(channel.open(Channel::Tcp));
        auto exception = std::make_unique<QSocketNotifier>(channel.local, QSocketNotifier::Exception);
        QSocketNotifier reader(channel.local, QSocketNotifier::Read);
        qint64 read = 0;
        connect(exception.get(), &QSocketNotifier::activated, this, [&] {
            char urgent;
            ::recv(channel.local, &urgent, 1, MSG_OOB); // clears the urgent condition
        });
        connect(&reader, &QSocketNotifier::activated, this, [&] { read += channel.drain(); });

        QCOMPARE(::send(channel.peer, "u", 1, MSG_OOB), ssize_t(1));
        QCOMPARE(::send(channel.peer, "data", 4, 0), ssize_t(4));
        QTRY_VERIFY(read >= 4);
        exception.reset();
        settle();
        QCOMPARE(::send(channel.peer, "more", 4, 0), ssize_t(4));
        QTRY_VERIFY(read >= 8);
    }

    void everyReadyDescriptorIsServed()
    {
        // More descriptors stay ready than one wait may return (a dispatcher
        // hands over a bounded number per wait): one that becomes ready later
        // is still served within a few passes, and so is every other.
        constexpr int busyCount = 300;
        std::vector<std::unique_ptr<Channel>> busy;
        std::vector<std::unique_ptr<QSocketNotifier>> busyNotifiers;
        std::vector<int> busyActivations(busyCount, 0);
        for (int i = 0; i < busyCount; ++i) {
            busy.push_back(std::make_unique<Channel>());
            QVERIFY(busy.back()->open(Channel::UnixSocket));
            QVERIFY(busy.back()->post()); // never read: ready on every pass
            busyNotifiers.push_back(std::make_unique<QSocketNotifier>(busy.back()->local, QSocketNotifier::Read));
            connect(busyNotifiers.back().get(), &QSocketNotifier::activated, this, [&, i] { ++busyActivations[i]; });
        }
        Channel late;
        QVERIFY(late.open(Channel::UnixSocket));
        QSocketNotifier lateNotifier(late.local, QSocketNotifier::Read);
        int lateActivations = 0;
        connect(&lateNotifier, &QSocketNotifier::activated, this, [&] {
            ++lateActivations;
            late.drain();
        });
        runPasses(3);
        QVERIFY(late.post());
        int passes = 0;
        while (lateActivations == 0 && passes < 20) {
            QCoreApplication::processEvents();
            ++passes;
        }
        QVERIFY2(lateActivations == 1, qPrintable(QStringLiteral("not served in %1 passes").arg(passes)));
        runPasses(10);
        const auto idle = std::count(busyActivations.begin(), busyActivations.end(), 0);
        QVERIFY2(idle == 0, qPrintable(QStringLiteral("%1 of %2 ready descriptors never served").arg(idle).arg(busyCount)));
    }

    // --- deletion and descriptor reuse -------------------------------------

    void notifierDeletedInItsOwnActivation()
    {
        Channel channel;
        QVERIFY(channel.open(Channel::UnixSocket));
        QVERIFY(channel.post()); // stays unread: a level-triggered notifier would fire again
        auto *notifier = new QSocketNotifier(channel.local, QSocketNotifier::Read);
        QPointer<QSocketNotifier> alive(notifier);
        int activations = 0;
        connect(notifier, &QSocketNotifier::activated, this, [&] {
            ++activations;
            delete notifier;
        });
        QTRY_VERIFY(activations > 0);
        settle();
        QCOMPARE(activations, 1);
        QVERIFY(alive.isNull());

        // the descriptor itself is fine: a new notifier on it reports the data
        QSocketNotifier again(channel.local, QSocketNotifier::Read);
        int againActivations = 0;
        connect(&again, &QSocketNotifier::activated, this, [&] { ++againActivations; });
        QTRY_VERIFY(againActivations > 0);
    }

    void notifierOfAnotherFdDeletedInTheSamePass()
    {
        // Both descriptors are ready in one pass; whichever is activated first
        // deletes the other, which must then not be activated.
        Channel channels[2];
        QSocketNotifier *notifiers[2] = {};
        int activations[2] = {0, 0};
        int deleted = -1;
        for (int i = 0; i < 2; ++i) {
            QVERIFY(channels[i].open(Channel::UnixSocket));
            QVERIFY(channels[i].post());
        }
        for (int i = 0; i < 2; ++i) {
            notifiers[i] = new QSocketNotifier(channels[i].local, QSocketNotifier::Read);
            connect(notifiers[i], &QSocketNotifier::activated, this, [&, i] {
                ++activations[i];
                if (deleted == -1) {
                    deleted = 1 - i;
                    delete notifiers[deleted];
                    notifiers[deleted] = nullptr;
                }
            });
        }
        QTRY_VERIFY(deleted != -1);
        settle();
        QCOMPARE(activations[deleted], 0);
        QVERIFY(activations[1 - deleted] > 1); // the survivor keeps reporting its unread data
        delete notifiers[1 - deleted];
    }

    void readAndWriteNotifiersOfOneFdDeleteEachOther()
    {
        // Readable and writable in the same pass; the first activation deletes the other notifier.
        Channel channel;
        QVERIFY(channel.open(Channel::UnixSocket));
        QVERIFY(channel.post());
        QSocketNotifier *notifiers[2] = {
            new QSocketNotifier(channel.local, QSocketNotifier::Read),
            new QSocketNotifier(channel.local, QSocketNotifier::Write),
        };
        int activations[2] = {0, 0};
        int deleted = -1;
        for (int i = 0; i < 2; ++i) {
            connect(notifiers[i], &QSocketNotifier::activated, this, [&, i] {
                ++activations[i];
                if (deleted == -1) {
                    deleted = 1 - i;
                    delete notifiers[deleted];
                    notifiers[deleted] = nullptr;
                }
            });
        }
        QTRY_VERIFY(deleted != -1);
        settle();
        QCOMPARE(activations[deleted], 0);
        QVERIFY(activations[1 - deleted] > 1);
        delete notifiers[1 - deleted];
    }

    void fdClosedAndReusedInsideAnActivation()
    {
        // Two descriptors ready in one pass. The first activation deletes the
        // other one's notifier, closes that descriptor, and puts a new socket
        // with no data on the same number with a new notifier. The old
        // readiness must reach neither the deleted notifier nor the new one;
        // the new one must report its own data.
        Channel channels[2];
        Channel replacement;
        QSocketNotifier *notifiers[2] = {};
        std::unique_ptr<QSocketNotifier> reusedNotifier;
        int activations[2] = {0, 0};
        int reusedActivations = 0;
        int reusedFd = -1;
        int swapped = -1;
        for (int i = 0; i < 2; ++i) {
            QVERIFY(channels[i].open(Channel::UnixSocket));
            QVERIFY(channels[i].post());
        }
        for (int i = 0; i < 2; ++i) {
            notifiers[i] = new QSocketNotifier(channels[i].local, QSocketNotifier::Read);
            connect(notifiers[i], &QSocketNotifier::activated, this, [&, i] {
                ++activations[i];
                channels[i].drain();
                if (swapped != -1)
                    return;
                swapped = 1 - i;
                Channel &other = channels[swapped];
                delete notifiers[swapped];
                notifiers[swapped] = nullptr;
                reusedFd = other.local;
                ::close(other.local);
                other.local = -1;
                if (!replacement.open(Channel::UnixSocket))
                    return;
                if (replacement.local != reusedFd) { // usually the kernel hands out the freed number itself
                    if (::dup2(replacement.local, reusedFd) != reusedFd)
                        return;
                    ::close(replacement.local);
                    replacement.local = reusedFd;
                }
                reusedNotifier = std::make_unique<QSocketNotifier>(reusedFd, QSocketNotifier::Read);
                connect(reusedNotifier.get(), &QSocketNotifier::activated, this, [&] {
                    ++reusedActivations;
                    replacement.drain();
                });
            });
        }
        QTRY_VERIFY(swapped != -1);
        QVERIFY(reusedNotifier);
        settle();
        QCOMPARE(activations[swapped], 0);
        QCOMPARE(reusedActivations, 0);

        QVERIFY(replacement.post());
        QTRY_COMPARE(reusedActivations, 1);
        settle();
        QCOMPARE(reusedActivations, 1);
        delete notifiers[1 - swapped];
        reusedNotifier.reset();
    }

    void notifierOutlivingItsClosedFd()
    {
        // The descriptor is closed while its notifier is still registered and
        // the notifier deleted only afterwards; a new socket on the same
        // number then gets a notifier that works.
        Channel old;
        QVERIFY(old.open(Channel::UnixSocket));
        auto oldNotifier = std::make_unique<QSocketNotifier>(old.local, QSocketNotifier::Read);
        int oldActivations = 0;
        connect(oldNotifier.get(), &QSocketNotifier::activated, this, [&] { ++oldActivations; });
        runPasses(2);
        const int fd = old.local;
        ::close(old.local);
        old.local = -1;
        oldNotifier.reset();

        Channel fresh;
        QVERIFY(fresh.open(Channel::UnixSocket));
        if (fresh.local != fd) {
            QCOMPARE(::dup2(fresh.local, fd), fd);
            ::close(fresh.local);
            fresh.local = fd;
        }
        QSocketNotifier notifier(fd, QSocketNotifier::Read);
        int activations = 0;
        connect(&notifier, &QSocketNotifier::activated, this, [&] {
            ++activations;
            fresh.drain();
        });
        settle();
        QCOMPARE(activations, 0);
        QVERIFY(fresh.post());
        QTRY_COMPARE(activations, 1);
        QCOMPARE(oldActivations, 0);
    }

    void fdReusedBeforeTheOldNotifierIsDeleted()
    {
        // Careless but possible: the descriptor is closed while its notifier
        // is registered, the number is reused by a new socket with a new
        // notifier, and only then is the old notifier deleted. The new one
        // must work (Qt's own dispatchers warn about two notifiers on one
        // descriptor here, and carry on).
        Channel old;
        QVERIFY(old.open(Channel::UnixSocket));
        auto oldNotifier = std::make_unique<QSocketNotifier>(old.local, QSocketNotifier::Read);
        runPasses(2);
        const int fd = old.local;
        ::close(old.local);
        old.local = -1;

        Channel fresh;
        QVERIFY(fresh.open(Channel::UnixSocket));
        if (fresh.local != fd) {
            QCOMPARE(::dup2(fresh.local, fd), fd);
            ::close(fresh.local);
            fresh.local = fd;
        }
        QSocketNotifier notifier(fd, QSocketNotifier::Read);
        int activations = 0;
        connect(&notifier, &QSocketNotifier::activated, this, [&] {
            ++activations;
            fresh.drain();
        });
        oldNotifier.reset();
        settle();
        QCOMPARE(activations, 0);
        QVERIFY(fresh.post());
        QTRY_COMPARE(activations, 1);
    }

    // --- timers ------------------------------------------------------------

    void tenThousandTimersFireOnceInDueOrder()
    {
        // Intervals spread over 1..1000 ms in an order unrelated to the order
        // of starting. Each single-shot timer fires exactly once, never early,
        // and no timer fires before one that was due more than the tolerance
        // earlier. A timer's due time lies between the clock read before and
        // the one after its start(): the thread can be preempted in between.
        constexpr int count = 10000;
        constexpr qint64 orderToleranceNs = 2'000'000;
        constexpr qint64 earlyToleranceNs = 1'000'000;
        struct Record
        {
            qint64 dueLowNs = 0;
            qint64 dueHighNs = 0;
            qint64 firedNs = -1;
            int fires = 0;
        };
        std::vector<Record> records(count);
        std::vector<int> firingOrder;
        firingOrder.reserve(count);
        std::vector<std::unique_ptr<QTimer>> timers;
        timers.reserve(count);
        QEventLoop loop;
        QElapsedTimer clock;
        clock.start();
        int pending = count;
        for (int i = 0; i < count; ++i) {
            const int intervalMs = 1 + int((qint64(i) * 7919) % 1000);
            auto timer = std::make_unique<QTimer>();
            timer->setSingleShot(true);
            timer->setTimerType(Qt::PreciseTimer);
            timer->setInterval(intervalMs);
            connect(timer.get(), &QTimer::timeout, this, [&, i] {
                Record &record = records[i];
                if (record.fires++ == 0) {
                    record.firedNs = clock.nsecsElapsed();
                    firingOrder.push_back(i);
                    if (--pending == 0)
                        loop.quit();
                }
            });
            records[i].dueLowNs = clock.nsecsElapsed() + intervalMs * qint64(1'000'000);
            timer->start();
            records[i].dueHighNs = clock.nsecsElapsed() + intervalMs * qint64(1'000'000);
            timers.push_back(std::move(timer));
        }
        QVERIFY2(execWithin(loop, 15000), qPrintable(QStringLiteral("%1 timers did not fire").arg(pending)));
        settle(); // a second firing of a single-shot timer would show now

        int early = 0;
        int outOfOrder = 0;
        int repeated = 0;
        qint64 latestDueSoFar = 0;
        qint64 maxLatenessNs = 0;
        QString firstProblem;
        for (int i : firingOrder) {
            const Record &record = records[i];
            if (record.fires != 1)
                ++repeated;
            if (record.firedNs < record.dueLowNs - earlyToleranceNs) {
                ++early;
                if (firstProblem.isEmpty())
                    firstProblem = QStringLiteral("timer %1 fired %2 us early").arg(i).arg((record.dueLowNs - record.firedNs) / 1000);
            }
            if (record.dueHighNs < latestDueSoFar - orderToleranceNs) {
                ++outOfOrder;
                if (firstProblem.isEmpty())
                    firstProblem = QStringLiteral("timer %1 fired after one due %2 us later").arg(i).arg((latestDueSoFar - record.dueHighNs) / 1000);
            }
            latestDueSoFar = std::max(latestDueSoFar, record.dueLowNs);
            maxLatenessNs = std::max(maxLatenessNs, record.firedNs - record.dueHighNs);
        }
        qInfo("10000 timers: latest firing %lld ms after its due time (information, not a limit)",
              maxLatenessNs / 1'000'000);
        QVERIFY2(early == 0 && outOfOrder == 0 && repeated == 0,
                 qPrintable(QStringLiteral("%1 early, %2 out of order, %3 fired more than once; %4")
                                    .arg(early).arg(outOfOrder).arg(repeated).arg(firstProblem)));
    }

    void repeatingTimerKeepsItsPeriod()
    {
        // The n-th firing belongs in the slot start + n * period. A dispatcher
        // that keeps to its slots is late by its wake-up latency plus a
        // sawtooth of up to a millisecond (waits are in whole ms), but not
        // more and more; one that schedules the next firing from "now" instead
        // of from the slot adds its latency on every firing (about 0.1 ms
        // here) and falls behind without bound. So the check is growth, not
        // size: along a run of firings the lateness must not climb.
        // When the machine stalls and a firing comes more than a period late,
        // Qt starts a new schedule from that moment; the slots here do the
        // same after one jump of a period (a stall; drift never jumps), and
        // growth is judged on the longest run of firings without such a
        // restart. Up to three tries, each 120 firings of 20 ms.
        constexpr int periodMs = 20;
        constexpr qint64 periodNs = periodMs * qint64(1'000'000);
        constexpr int firings = 120;
        constexpr int minimumRun = 50;
        constexpr int window = 15;
        constexpr qint64 toleranceNs = 2'000'000;
        auto median = [](std::vector<qint64> values) {
            std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
            return values[values.size() / 2];
        };
        QString lastResult;
        bool judged = false;
        for (int attempt = 0; attempt < 3; ++attempt) {
            QTimer timer;
            timer.setTimerType(Qt::PreciseTimer);
            timer.setInterval(periodMs);
            std::vector<qint64> firedNs;
            QEventLoop loop;
            QElapsedTimer clock;
            connect(&timer, &QTimer::timeout, this, [&] {
                firedNs.push_back(clock.nsecsElapsed());
                if (int(firedNs.size()) == firings)
                    loop.quit();
            });
            clock.start();
            timer.start();
            QVERIFY(execWithin(loop, 10 * firings * periodMs));
            timer.stop();

            // lateness against the slots, split into runs at restarts
            std::vector<std::vector<qint64>> runs(1);
            qint64 slotNs = periodNs;
            qint64 previousLatenessNs = 0;
            for (int n = 0; n < firings; ++n) {
                // never before its slot of the first schedule: restarts only move slots later
                const qint64 firstScheduleSlotNs = (n + 1) * periodNs;
                QVERIFY2(firedNs[n] > firstScheduleSlotNs - 1'000'000,
                         qPrintable(QStringLiteral("firing %1 came %2 us before its slot")
                                            .arg(n).arg((firstScheduleSlotNs - firedNs[n]) / 1000)));
                const qint64 latenessNs = firedNs[n] - slotNs;
                if (latenessNs > periodNs && latenessNs - previousLatenessNs > periodNs - 2'000'000) {
                    slotNs = firedNs[n] + periodNs;
                    previousLatenessNs = 0;
                    runs.emplace_back();
                    continue;
                }
                runs.back().push_back(latenessNs);
                slotNs += periodNs;
                previousLatenessNs = latenessNs;
            }
            const auto &longest = *std::max_element(runs.begin(), runs.end(),
                                                    [](const auto &a, const auto &b) { return a.size() < b.size(); });
            if (int(longest.size()) < minimumRun) {
                lastResult = QStringLiteral("%1 stalls: no run of %2 firings").arg(runs.size() - 1).arg(minimumRun);
                qInfo("attempt %d: %s", attempt + 1, qPrintable(lastResult));
                continue;
            }
            judged = true;
            const qint64 earlyNs = median({longest.begin(), longest.begin() + window});
            const qint64 lateNs = median({longest.end() - window, longest.end()});
            lastResult = QStringLiteral("over %1 firings of a %2 ms timer the lateness went from %3 us to %4 us")
                                 .arg(longest.size()).arg(periodMs).arg(earlyNs / 1000).arg(lateNs / 1000);
            if (lateNs - earlyNs <= toleranceNs)
                return;
            qInfo("attempt %d: %s", attempt + 1, qPrintable(lastResult));
        }
        if (!judged)
            QSKIP(qPrintable(QStringLiteral("the machine stalled too often to judge: %1").arg(lastResult)));
        QFAIL(qPrintable(lastResult));
    }

    void killTimerInsideTimerEvent()
    {
        // Two timers due in the same pass; the first to fire kills both and
        // starts a long one, which may reuse a freed id: nothing else fires.
        TimerHost host;
        const int first = host.startTimer(5, Qt::PreciseTimer);
        const int second = host.startTimer(5, Qt::PreciseTimer);
        int started = -1;
        host.onTimer = [&](int) {
            if (started != -1)
                return;
            host.killTimer(first);
            host.killTimer(second);
            started = host.startTimer(60000, Qt::PreciseTimer);
        };
        QThread::msleep(30); // both overdue before the next pass
        runPasses(1);
        QTRY_VERIFY(!host.fired.empty());
        settle();
        QCOMPARE(int(host.fired.size()), 1);
        const auto registered = QAbstractEventDispatcher::instance()->registeredTimers(&host);
        QCOMPARE(registered.size(), 1);
        QCOMPARE(registered.first().timerId, started);
        host.killTimer(started);

        // a repeating zero timer that kills itself fires once
        host.fired.clear();
        int self = -1;
        host.onTimer = [&](int id) { host.killTimer(id); };
        self = host.startTimer(0);
        QTRY_VERIFY(!host.fired.empty());
        settle();
        QCOMPARE(host.fired, std::vector<int>{self});
        QVERIFY(QAbstractEventDispatcher::instance()->registeredTimers(&host).isEmpty());
    }

    void deletingAnObjectDropsItsTimers()
    {
        // QObject's destructor unregisters all its timers at once; other
        // objects' timers are untouched.
        auto doomed = std::make_unique<TimerHost>();
        TimerHost survivor;
        for (int i = 0; i < 5; ++i)
            doomed->startTimer(5 + i, Qt::PreciseTimer);
        survivor.startTimer(5, Qt::PreciseTimer);
        int doomedFirings = 0;
        doomed->onTimer = [&](int) { ++doomedFirings; };
        QTRY_VERIFY(doomedFirings > 0 && !survivor.fired.empty());
        doomed.reset();
        survivor.fired.clear();
        QTRY_VERIFY(survivor.fired.size() > 3);
    }

    void zeroTimerRunsOnEveryPass()
    {
        QTimer zero;
        zero.setInterval(0);
        int ticks = 0;
        connect(&zero, &QTimer::timeout, this, [&] { ++ticks; });
        zero.start();
        QTRY_VERIFY(ticks > 0);
        for (int pass = 0; pass < 10; ++pass) {
            const int before = ticks;
            QCoreApplication::processEvents();
            QVERIFY2(ticks > before, qPrintable(QStringLiteral("no tick on pass %1").arg(pass)));
        }
    }

    void zeroTimersDoNotStarveTheRest()
    {
        // Two busy zero timers (one posting an event on every tick) and, in the
        // same loop, a socket notifier, a 20 ms timer and a posted event: all get their turn.
        Channel channel;
        QVERIFY(channel.open(Channel::UnixSocket));
        QEventLoop loop;
        int ticks = 0;
        int repostedDelivered = 0;
        bool socketSeen = false;
        bool timerSeen = false;
        bool postedSeen = false;
        auto check = [&] {
            if (socketSeen && timerSeen && postedSeen && ticks > 10 && repostedDelivered > 10)
                loop.quit();
        };
        EventRecorder recorder;
        recorder.onReceived = [&](int number) {
            if (number == 0)
                postedSeen = true;
            else
                ++repostedDelivered;
            check();
        };
        QTimer zero;
        zero.setInterval(0);
        connect(&zero, &QTimer::timeout, this, [&] {
            ++ticks;
            check();
        });
        QTimer reposting;
        reposting.setInterval(0);
        connect(&reposting, &QTimer::timeout, this, [&] { QCoreApplication::postEvent(&recorder, new OrderEvent(1)); });
        QSocketNotifier notifier(channel.local, QSocketNotifier::Read);
        connect(&notifier, &QSocketNotifier::activated, this, [&] {
            channel.drain();
            socketSeen = true;
            check();
        });
        QTimer later;
        later.setSingleShot(true);
        later.setInterval(20);
        connect(&later, &QTimer::timeout, this, [&] {
            timerSeen = true;
            check();
        });
        zero.start();
        reposting.start();
        later.start();
        QTimer::singleShot(5, this, [&] {
            QVERIFY(channel.post());
            QCoreApplication::postEvent(&recorder, new OrderEvent(0));
        });
        const bool finished = execWithin(loop, 3000);
        QVERIFY2(finished, qPrintable(QStringLiteral("socket %1, timer %2, posted %3, ticks %4, reposted %5")
                                              .arg(socketSeen).arg(timerSeen).arg(postedSeen)
                                              .arg(ticks).arg(repostedDelivered)));
    }

    void registeredTimersAndRemainingTime()
    {
        QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance();
        TimerHost owner;
        TimerHost other;
        const int precise = owner.startTimer(1000, Qt::PreciseTimer);
        const int coarse = owner.startTimer(3000, Qt::CoarseTimer);
        const int veryCoarse = owner.startTimer(5000, Qt::VeryCoarseTimer);
        const int foreign = other.startTimer(2000);

        const auto infos = dispatcher->registeredTimers(&owner);
        QCOMPARE(infos.size(), 3);
        for (const auto &info : infos) {
            if (info.timerId == precise) {
                QCOMPARE(info.interval, 1000);
                QCOMPARE(info.timerType, Qt::PreciseTimer);
            } else if (info.timerId == coarse) {
                QCOMPARE(info.interval, 3000);
                QCOMPARE(info.timerType, Qt::CoarseTimer);
            } else if (info.timerId == veryCoarse) {
                QCOMPARE(info.interval, 5000);
                QCOMPARE(info.timerType, Qt::VeryCoarseTimer);
            } else {
                QFAIL(qPrintable(QStringLiteral("unknown timer id %1").arg(info.timerId)));
            }
        }

        // what is left of each interval; coarse ones may move by 5 %, very coarse ones by a second
        const int preciseLeft = dispatcher->remainingTime(precise);
        const int coarseLeft = dispatcher->remainingTime(coarse);
        const int veryCoarseLeft = dispatcher->remainingTime(veryCoarse);
        QVERIFY2(preciseLeft > 500 && preciseLeft <= 1000, qPrintable(QString::number(preciseLeft)));
        QVERIFY2(coarseLeft > 1500 && coarseLeft <= 3150, qPrintable(QString::number(coarseLeft)));
        QVERIFY2(veryCoarseLeft > 3000 && veryCoarseLeft <= 6000, qPrintable(QString::number(veryCoarseLeft)));
        QTest::qWait(100);
        const int preciseLater = dispatcher->remainingTime(precise);
        QVERIFY2(preciseLater < preciseLeft && preciseLater >= 0, qPrintable(QString::number(preciseLater)));

        owner.killTimer(precise);
        QCOMPARE(dispatcher->remainingTime(precise), -1);
        QCOMPARE(dispatcher->registeredTimers(&owner).size(), 2);
        QCOMPARE(dispatcher->registeredTimers(&other).size(), 1);
        QCOMPARE(dispatcher->registeredTimers(&other).first().timerId, foreign);

        // the longest interval there is (about 24 days) neither overflows nor fires
        TimerHost longWait;
        const int longest = longWait.startTimer(std::numeric_limits<int>::max(), Qt::PreciseTimer);
        const int longestLeft = dispatcher->remainingTime(longest);
        QVERIFY2(longestLeft > std::numeric_limits<int>::max() - 10000, qPrintable(QString::number(longestLeft)));
        settle();
        QVERIFY(longWait.fired.empty());
        longWait.killTimer(longest);

        // through QTimer, which asks the dispatcher
        QTimer timer;
        QCOMPARE(timer.remainingTime(), -1);
        timer.start(1500);
        QVERIFY(timer.remainingTime() > 0 && timer.remainingTime() <= 1500 * 105 / 100);
        timer.stop();
        QCOMPARE(timer.remainingTime(), -1);
    }

    void everyTimerTypeFires()
    {
        QEventLoop loop;
        QElapsedTimer clock;
        qint64 firedMs[3] = {-1, -1, -1};
        const Qt::TimerType types[3] = {Qt::PreciseTimer, Qt::CoarseTimer, Qt::VeryCoarseTimer};
        const int intervals[3] = {50, 50, 1000};
        std::unique_ptr<QTimer> timers[3];
        clock.start();
        for (int i = 0; i < 3; ++i) {
            timers[i] = std::make_unique<QTimer>();
            timers[i]->setSingleShot(true);
            timers[i]->setTimerType(types[i]);
            timers[i]->setInterval(intervals[i]);
            connect(timers[i].get(), &QTimer::timeout, this, [&, i] {
                firedMs[i] = clock.elapsed();
                if (firedMs[0] >= 0 && firedMs[1] >= 0 && firedMs[2] >= 0)
                    loop.quit();
            });
            timers[i]->start();
        }
        QVERIFY2(execWithin(loop, 5000), qPrintable(QStringLiteral("precise %1 ms, coarse %2 ms, very coarse %3 ms")
                                                            .arg(firedMs[0]).arg(firedMs[1]).arg(firedMs[2])));
        QVERIFY2(firedMs[0] >= 49, qPrintable(QString::number(firedMs[0])));
        QVERIFY2(firedMs[1] >= 47, qPrintable(QString::number(firedMs[1]))); // coarse: up to 5 % early
        // very coarse: whole seconds, so anywhere up to about two seconds
        QVERIFY2(firedMs[2] <= 2500, qPrintable(QString::number(firedMs[2])));
    }

    void timersFollowTheirObjectToAnotherThread()
    {
        // moveToThread asks the old dispatcher for registeredTimers() and gives
        // them to the new one: interval and type must survive the trip.
        WorkerThread worker;
        auto *counter = new ThreadTimerCounter;
        counter->startTimer(10, Qt::PreciseTimer);
        counter->startTimer(5000, Qt::VeryCoarseTimer);
        QTRY_VERIFY(counter->count > 0);
        counter->moveToThread(&worker.thread);
        QVERIFY(QAbstractEventDispatcher::instance()->registeredTimers(counter).isEmpty());
        const int before = counter->count;
        QTRY_VERIFY(counter->count > before + 3 && counter->lastThread == &worker.thread);
        QList<QAbstractEventDispatcher::TimerInfo> moved;
        worker.runBlocking([&] { moved = QAbstractEventDispatcher::instance()->registeredTimers(counter); });
        QCOMPARE(moved.size(), 2);
        std::sort(moved.begin(), moved.end(), [](const auto &a, const auto &b) { return a.interval < b.interval; });
        QCOMPARE(moved[0].interval, 10);
        QCOMPARE(moved[0].timerType, Qt::PreciseTimer);
        QCOMPARE(moved[1].interval, 5000);
        QCOMPARE(moved[1].timerType, Qt::VeryCoarseTimer);
        counter->deleteLater();
    }

    // --- posted events -----------------------------------------------------

    void postedEventsKeepTheirOrder()
    {
        // 1000 events posted up front, and more posted from inside delivery,
        // which come after all of them.
        EventRecorder recorder;
        QEventLoop loop;
        constexpr int upFront = 1000;
        recorder.onReceived = [&](int number) {
            if (number % 100 == 0 && number < upFront)
                QCoreApplication::postEvent(&recorder, new OrderEvent(upFront + number / 100));
            if (number == upFront + 9)
                loop.quit();
        };
        for (int i = 0; i < upFront; ++i)
            QCoreApplication::postEvent(&recorder, new OrderEvent(i));
        QVERIFY(execWithin(loop, 5000));
        std::vector<int> expected(upFront + 10);
        std::iota(expected.begin(), expected.end(), 0);
        QCOMPARE(recorder.received, expected);
    }

    void eventsPostedFromAnotherThreadKeepTheirOrder()
    {
        EventRecorder recorder;
        QEventLoop loop;
        constexpr int total = 2000;
        recorder.onReceived = [&](int number) {
            if (number == total - 1)
                loop.quit();
        };
        std::thread poster([&] {
            for (int i = 0; i < total; ++i) {
                QCoreApplication::postEvent(&recorder, new OrderEvent(i));
                if (i % 200 == 0)
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        });
        const bool finished = execWithin(loop, 5000);
        poster.join();
        QVERIFY(finished);
        std::vector<int> expected(total);
        std::iota(expected.begin(), expected.end(), 0);
        QCOMPARE(recorder.received, expected);
    }

    void deleteLaterWorks()
    {
        // from a timer inside a running loop
        auto *object = new QObject;
        QPointer<QObject> alive(object);
        QEventLoop loop;
        connect(object, &QObject::destroyed, &loop, &QEventLoop::quit);
        QTimer::singleShot(0, object, &QObject::deleteLater);
        QVERIFY(execWithin(loop, 2000));
        QVERIFY(alive.isNull());

        // on a worker thread, asked from this one
        WorkerThread worker;
        auto *remote = new QObject;
        std::atomic<bool> destroyed{false};
        connect(remote, &QObject::destroyed, [&] { destroyed = true; });
        remote->moveToThread(&worker.thread);
        QTest::qWait(50); // the worker is now idle, waiting
        remote->deleteLater();
        QTRY_VERIFY_WITH_TIMEOUT(destroyed, 2000);
    }

    // --- wake-ups and interrupts across threads --------------------------

    void queuedCallWakesABlockedThread()
    {
        WorkerThread worker;
        for (int round = 0; round < 5; ++round) {
            QTest::qWait(50); // the worker has nothing to do and waits
            std::atomic<bool> ran{false};
            std::atomic<QThread *> ranOn{nullptr};
            QMetaObject::invokeMethod(worker.context, [&] {
                ranOn = QThread::currentThread();
                ran = true;
            }, Qt::QueuedConnection);
            QTRY_VERIFY_WITH_TIMEOUT(ran, 2000);
            QCOMPARE(ranOn.load(), &worker.thread);
        }

        // and the other way: this thread blocked in exec(), the worker calls in
        QEventLoop loop;
        QObject *context = worker.context;
        QTimer::singleShot(0, this, [&] {
            QMetaObject::invokeMethod(context, [&loop] {
                QThread::msleep(100); // let the main thread go to sleep first
                QMetaObject::invokeMethod(&loop, [&loop] { loop.quit(); }, Qt::QueuedConnection);
            }, Qt::QueuedConnection);
        });
        QVERIFY(execWithin(loop, 2000));
    }

    void pingPongBetweenSleepingThreads()
    {
        // Each hop wakes a thread that has gone to sleep in its loop: a lost
        // wake-up stalls the exchange.
        WorkerThread worker;
        constexpr int rounds = 2000;
        QEventLoop loop;
        QObject *remote = worker.context;
        int completed = 0;
        std::function<void()> serve;
        serve = [&] {
            QMetaObject::invokeMethod(remote, [&] {
                QMetaObject::invokeMethod(&loop, [&] {
                    if (++completed == rounds)
                        loop.quit();
                    else
                        serve();
                }, Qt::QueuedConnection);
            }, Qt::QueuedConnection);
        };
        serve();
        QVERIFY2(execWithin(loop, 20000), qPrintable(QStringLiteral("%1 of %2 round trips").arg(completed).arg(rounds)));
    }

    void postedEventsFromManyThreadsAllArrive()
    {
        // Several threads post in bursts with pauses, so the receiving loop
        // keeps going to sleep and being woken; every event arrives, and the
        // events of each thread in their order.
        constexpr int threads = 4;
        constexpr int perThread = 2000;
        EventRecorder recorder;
        QEventLoop loop;
        int received = 0;
        std::vector<int> lastFrom(threads, -1);
        bool ordered = true;
        recorder.onReceived = [&](int number) {
            const int from = number / perThread;
            const int n = number % perThread;
            ordered = ordered && n == lastFrom[from] + 1;
            lastFrom[from] = n;
            if (++received == threads * perThread)
                loop.quit();
        };
        std::vector<std::thread> posters;
        for (int t = 0; t < threads; ++t) {
            posters.emplace_back([&recorder, t] {
                for (int i = 0; i < perThread; ++i) {
                    QCoreApplication::postEvent(&recorder, new OrderEvent(t * perThread + i));
                    if (i % (5 + t) == 0)
                        std::this_thread::sleep_for(std::chrono::microseconds(200));
                }
            });
        }
        const bool finished = execWithin(loop, 20000);
        for (auto &poster : posters)
            poster.join();
        QVERIFY2(finished, qPrintable(QStringLiteral("%1 of %2 events").arg(received).arg(threads * perThread)));
        QVERIFY(ordered);
    }

    void wakeUpEndsAWait()
    {
        QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance();
        runPasses(5);
        // while waiting
        {
            std::atomic<bool> woken{false};
            Deadline deadline(3000);
            std::thread waker([&] {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                woken = true;
                dispatcher->wakeUp();
            });
            while (!woken && !deadline.expired)
                dispatcher->processEvents(QEventLoop::WaitForMoreEvents);
            waker.join();
            QVERIFY2(!deadline.expired, "wakeUp() from another thread did not end the wait");
        }
        // before waiting: the wake-up is kept for the next wait
        {
            Deadline deadline(3000);
            std::thread waker([&] { dispatcher->wakeUp(); });
            waker.join();
            dispatcher->processEvents(QEventLoop::WaitForMoreEvents);
            QVERIFY2(!deadline.expired, "a wakeUp() before the wait was lost");
        }
    }

    void interruptEndsABlockedLoop()
    {
        // QThread::quit from here on a worker that waits
        {
            auto worker = std::make_unique<QThread>();
            if (QAbstractEventDispatcher *tested = createTestedDispatcher())
                worker->setEventDispatcher(tested);
            worker->start();
            QTest::qWait(100);
            worker->quit();
            QVERIFY2(worker->wait(2000), "QThread::quit did not end the worker's loop");
        }
        // QEventLoop::exit from another thread on this thread's loop
        {
            QEventLoop loop;
            std::thread exiter([&] {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                loop.exit(7);
            });
            QTimer deadline;
            deadline.setSingleShot(true);
            connect(&deadline, &QTimer::timeout, &loop, [&loop] { loop.exit(-1); });
            deadline.start(3000);
            const int code = loop.exec();
            exiter.join();
            QCOMPARE(code, 7);
        }
        // interrupt() on a waiting processEvents
        {
            QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance();
            std::atomic<bool> interrupted{false};
            Deadline deadline(3000);
            std::thread interrupter([&] {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
                interrupted = true;
                dispatcher->interrupt();
            });
            while (!interrupted && !deadline.expired)
                dispatcher->processEvents(QEventLoop::WaitForMoreEvents);
            interrupter.join();
            QVERIFY2(!deadline.expired, "interrupt() did not end the wait");
        }
    }

    // --- processEvents flags -----------------------------------------------

    void waitForMoreEventsBlocksUntilSomethingHappens()
    {
        runPasses(5);
        bool fired = false;
        QTimer::singleShot(150, this, [&] { fired = true; });
        int returns = 0;
        while (!fired && returns < 1000) {
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
            ++returns;
        }
        QVERIFY(fired);
        // a dispatcher that does not wait returns thousands of times in 150 ms
        QVERIFY2(returns <= 5, qPrintable(QStringLiteral("returned %1 times before the timer fired").arg(returns)));
    }

    void processEventsWithoutWaitingReturnsWhenIdle()
    {
        Deadline deadline(3000);
        for (int pass = 0; pass < 20; ++pass) {
            QCoreApplication::processEvents();
            QVERIFY2(!deadline.expired, "processEvents() without WaitForMoreEvents waited");
        }
        QCoreApplication::processEvents(QEventLoop::ExcludeSocketNotifiers);
        QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents);
        QVERIFY(!deadline.expired);
    }

    void excludeSocketNotifiersLeavesActivationsForLater()
    {
        if (QByteArray(QCoreApplication::eventDispatcher()->metaObject()->className()) == "QEventDispatcherGlib")
            QSKIP("Qt's glib dispatcher ignores ExcludeSocketNotifiers (run with QT_NO_GLIB=1 for Qt's UNIX one)");
        Channel channel;
        QVERIFY(channel.open(Channel::UnixSocket));
        QSocketNotifier notifier(channel.local, QSocketNotifier::Read);
        int activations = 0;
        connect(&notifier, &QSocketNotifier::activated, this, [&] { ++activations; });
        settle();
        QVERIFY(channel.post());

        // timers and posted events still run meanwhile
        EventRecorder recorder;
        QCoreApplication::postEvent(&recorder, new OrderEvent(0));
        bool timerFired = false;
        QTimer::singleShot(30, this, [&] { timerFired = true; });
        QElapsedTimer clock;
        clock.start();
        while ((!timerFired || recorder.received.empty()) && clock.elapsed() < 3000) {
            QCoreApplication::processEvents(QEventLoop::ExcludeSocketNotifiers);
            QThread::msleep(1);
        }
        QVERIFY(timerFired);
        QCOMPARE(recorder.received.size(), size_t(1));
        QCOMPARE(activations, 0);

        // a wait that excludes socket notifiers ends with the next timer
        bool laterFired = false;
        QTimer::singleShot(50, this, [&] { laterFired = true; });
        Deadline deadline(3000);
        int returns = 0;
        while (!laterFired && !deadline.expired) {
            QCoreApplication::processEvents(QEventLoop::ExcludeSocketNotifiers | QEventLoop::WaitForMoreEvents);
            ++returns;
        }
        QVERIFY(laterFired);
        QCOMPARE(activations, 0);
        qInfo("a 50 ms wait with a ready socket excluded took %d processEvents calls", returns);

        // the activation was only deferred
        QTRY_VERIFY(activations > 0);
    }

    void excludeUserInputEventsStillDeliversTheRest()
    {
        Channel channel;
        QVERIFY(channel.open(Channel::UnixSocket));
        QSocketNotifier notifier(channel.local, QSocketNotifier::Read);
        bool socketSeen = false;
        connect(&notifier, &QSocketNotifier::activated, this, [&] {
            channel.drain();
            socketSeen = true;
        });
        EventRecorder recorder;
        bool timerFired = false;
        QTimer::singleShot(20, this, [&] { timerFired = true; });
        QCoreApplication::postEvent(&recorder, new OrderEvent(0));
        QVERIFY(channel.post());
        QElapsedTimer clock;
        clock.start();
        while (!(socketSeen && timerFired && !recorder.received.empty()) && clock.elapsed() < 3000)
            QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents | QEventLoop::WaitForMoreEvents);
        QVERIFY(socketSeen);
        QVERIFY(timerFired);
        QCOMPARE(recorder.received.size(), size_t(1));
    }

    // --- nested loops ------------------------------------------------------

    void nestedLoopDeliversEverything_data()
    {
        QTest::addColumn<bool>("fromSocketActivation");
        QTest::newRow("from a timer") << false;
        QTest::newRow("from a socket activation") << true;
    }
    void nestedLoopDeliversEverything()
    {
        // A handler runs a nested exec(); inside it a socket activation, a
        // timer and a posted event arrive; after it the outer loop goes on.
        QFETCH(bool, fromSocketActivation);
        Channel trigger;
        Channel inner;
        QVERIFY(trigger.open(Channel::UnixSocket));
        QVERIFY(inner.open(Channel::UnixSocket));
        QSocketNotifier triggerNotifier(trigger.local, QSocketNotifier::Read);
        QSocketNotifier innerNotifier(inner.local, QSocketNotifier::Read);
        EventRecorder recorder;
        QEventLoop outer;
        int innerResult = -1;
        bool socketSeen = false;
        bool timerSeen = false;
        bool postedSeen = false;
        bool outerContinued = false;
        QEventLoop *nested = nullptr;
        auto checkNested = [&] {
            if (nested && socketSeen && timerSeen && postedSeen)
                nested->quit();
        };
        connect(&innerNotifier, &QSocketNotifier::activated, this, [&] {
            inner.drain();
            socketSeen = true;
            checkNested();
        });
        recorder.onReceived = [&](int) {
            postedSeen = true;
            checkNested();
        };
        auto runNested = [&] {
            QEventLoop loop;
            nested = &loop;
            QTimer::singleShot(20, this, [&] {
                timerSeen = true;
                checkNested();
            });
            QCoreApplication::postEvent(&recorder, new OrderEvent(0));
            QVERIFY(inner.post());
            innerResult = execWithin(loop, 3000) ? 0 : 1;
            nested = nullptr;
            QTimer::singleShot(10, this, [&] {
                outerContinued = true;
                outer.quit();
            });
        };
        if (fromSocketActivation) {
            connect(&triggerNotifier, &QSocketNotifier::activated, this, [&] {
                trigger.drain();
                triggerNotifier.setEnabled(false);
                runNested();
            });
            QTimer::singleShot(0, this, [&] { QVERIFY(trigger.post()); });
        } else {
            triggerNotifier.setEnabled(false);
            QTimer::singleShot(0, this, runNested);
        }
        QVERIFY(execWithin(outer, 5000));
        QVERIFY2(innerResult == 0, qPrintable(QStringLiteral("in the nested loop: socket %1, timer %2, posted %3")
                                                      .arg(socketSeen).arg(timerSeen).arg(postedSeen)));
        QVERIFY(outerContinued);
    }

    void deletionInANestedLoopOfSomethingPendingOutside()
    {
        // Two notifiers ready in one pass: the first activated runs a nested
        // loop, in which the second is activated and deletes itself. Back in
        // the outer pass, the deleted one is not activated again.
        Channel channels[2];
        QSocketNotifier *notifiers[2] = {};
        int activations[2] = {0, 0};
        int first = -1;
        bool nestedFinished = false;
        std::function<void()> endNested;
        for (int i = 0; i < 2; ++i) {
            QVERIFY(channels[i].open(Channel::UnixSocket));
            QVERIFY(channels[i].post());
        }
        for (int i = 0; i < 2; ++i) {
            notifiers[i] = new QSocketNotifier(channels[i].local, QSocketNotifier::Read);
            connect(notifiers[i], &QSocketNotifier::activated, this, [&, i] {
                ++activations[i];
                if (first == -1) {
                    first = i;
                    notifiers[i]->setEnabled(false);
                    QEventLoop nested;
                    endNested = [&nested] { nested.quit(); };
                    nestedFinished = execWithin(nested, 2000);
                    endNested = nullptr;
                } else if (i != first) {
                    delete notifiers[i];
                    notifiers[i] = nullptr;
                    if (endNested)
                        endNested();
                }
            });
        }
        QTRY_VERIFY(first != -1);
        QVERIFY(nestedFinished);
        settle();
        QCOMPARE(activations[first], 1);
        QCOMPARE(activations[1 - first], 1);
        delete notifiers[first];

        // Two timers due in one pass: the first runs a nested loop whose
        // first posted event deletes the other timer's object before it fires.
        TimerHost nester;
        auto doomed = std::make_unique<TimerHost>();
        int nesterFirings = 0;
        int doomedFirings = 0;
        nestedFinished = false;
        nester.onTimer = [&](int id) {
            ++nesterFirings;
            nester.killTimer(id);
            QEventLoop nested;
            QMetaObject::invokeMethod(this, [&] {
                doomed.reset();
                nested.quit();
            }, Qt::QueuedConnection);
            nestedFinished = execWithin(nested, 2000);
        };
        doomed->onTimer = [&](int) { ++doomedFirings; };
        nester.startTimer(5, Qt::PreciseTimer);
        doomed->startTimer(5, Qt::PreciseTimer); // due just after the nester's
        QThread::msleep(20); // both due in the next pass
        QTRY_VERIFY(nesterFirings > 0);
        QVERIFY(nestedFinished);
        settle();
        QCOMPARE(nesterFirings, 1);
        QCOMPARE(doomedFirings, 0);
        QVERIFY(!doomed);
    }

    void timerIsNotReenteredFromANestedLoop()
    {
        // A repeating timer whose handler runs a nested loop (a modal dialog,
        // a blocking wait) is not fired again inside that loop, as in Qt.
        QTimer repeating;
        repeating.setTimerType(Qt::PreciseTimer);
        repeating.setInterval(10);
        int firings = 0;
        int firingsWhenNestedEnded = -1;
        QEventLoop outer;
        connect(&repeating, &QTimer::timeout, this, [&] {
            ++firings;
            if (firings == 1) {
                QEventLoop nested;
                QTimer::singleShot(100, &nested, &QEventLoop::quit);
                nested.exec();
                firingsWhenNestedEnded = firings;
            } else if (firings == 4) {
                outer.quit(); // and it goes on firing after the nested loop
            }
        });
        repeating.start();
        QVERIFY(execWithin(outer, 5000));
        QCOMPARE(firingsWhenNestedEnded, 1);
    }

    // --- integration -------------------------------------------------------

    void tcpEchoOnAWorkerThread()
    {
        WorkerThread worker;
        QTcpServer *server = nullptr;
        quint16 port = 0;
        worker.runBlocking([&] {
            server = new QTcpServer;
            if (server->listen(QHostAddress::LocalHost))
                port = server->serverPort();
            connect(server, &QTcpServer::pendingConnectionAvailable, server, [server] {
                while (QTcpSocket *socket = server->nextPendingConnection()) {
                    connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->write(socket->readAll()); });
                    connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
                }
            });
        });
        QVERIFY(port != 0);

        // several clients at once, small and large writes (the large ones need write notifiers)
        constexpr int clients = 8;
        std::vector<std::unique_ptr<QTcpSocket>> sockets;
        std::vector<QByteArray> sent(clients), received(clients);
        for (int i = 0; i < clients; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            QTcpSocket *raw = socket.get();
            connect(raw, &QTcpSocket::readyRead, this, [&, raw, i] { received[i] += raw->readAll(); });
            raw->connectToHost(QHostAddress::LocalHost, port);
            sockets.push_back(std::move(socket));
        }
        for (int i = 0; i < clients; ++i)
            QTRY_COMPARE(sockets[i]->state(), QAbstractSocket::ConnectedState);
        for (int i = 0; i < clients; ++i) {
            for (int size : {1, 100, 10000, 1 << 20}) {
                QByteArray payload(size, char('a' + (i + size) % 26));
                sent[i] += payload;
                sockets[i]->write(payload);
            }
        }
        for (int i = 0; i < clients; ++i) {
            QTRY_COMPARE_WITH_TIMEOUT(received[i].size(), sent[i].size(), 10000);
            QVERIFY(received[i] == sent[i]);
        }
        for (auto &socket : sockets)
            socket->disconnectFromHost();
        worker.runBlocking([&] { delete server; });
    }

    void tcpSocketHandedOverToAWorkerThread()
    {
        // As the server does: accepted here, then moved with its notifiers to a worker.
        WorkerThread worker;
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost));
        QTcpSocket client;
        QByteArray echoed;
        connect(&client, &QTcpSocket::readyRead, this, [&] { echoed += client.readAll(); });
        client.connectToHost(QHostAddress::LocalHost, server.serverPort());
        QTRY_VERIFY(server.hasPendingConnections());
        QTcpSocket *accepted = server.nextPendingConnection();
        accepted->setParent(nullptr);
        accepted->moveToThread(&worker.thread);
        worker.runBlocking([accepted] {
            connect(accepted, &QTcpSocket::readyRead, accepted, [accepted] { accepted->write(accepted->readAll()); });
            if (accepted->bytesAvailable() > 0)
                accepted->write(accepted->readAll());
        });
        const QByteArray payload(300000, 'h');
        client.write(payload);
        QTRY_COMPARE_WITH_TIMEOUT(echoed.size(), payload.size(), 10000);
        QVERIFY(echoed == payload);
        client.disconnectFromHost();
        worker.runBlocking([accepted] { delete accepted; });
    }

    void webSocketEchoOnAWorkerThread()
    {
        WorkerThread worker;
        QWebSocketServer *server = nullptr;
        quint16 port = 0;
        worker.runBlocking([&] {
            server = new QWebSocketServer(QStringLiteral("dispatcher test"), QWebSocketServer::NonSecureMode);
            if (server->listen(QHostAddress::LocalHost))
                port = server->serverPort();
            connect(server, &QWebSocketServer::newConnection, server, [server] {
                while (QWebSocket *socket = server->nextPendingConnection()) {
                    connect(socket, &QWebSocket::textMessageReceived, socket,
                            [socket](const QString &text) { socket->sendTextMessage(text); });
                    connect(socket, &QWebSocket::binaryMessageReceived, socket,
                            [socket](const QByteArray &data) { socket->sendBinaryMessage(data); });
                    connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
                }
            });
        });
        QVERIFY(port != 0);

        QWebSocket client;
        QStringList texts;
        QList<QByteArray> binaries;
        connect(&client, &QWebSocket::textMessageReceived, this, [&](const QString &text) { texts << text; });
        connect(&client, &QWebSocket::binaryMessageReceived, this, [&](const QByteArray &data) { binaries << data; });
        QSignalSpy connected(&client, &QWebSocket::connected);
        client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port)));
        QVERIFY(connected.wait(5000));

        QStringList sentTexts;
        QList<QByteArray> sentBinaries;
        for (int i = 0; i < 200; ++i) {
            sentTexts << QStringLiteral("message %1 ").arg(i).repeated(1 + i % 50);
            client.sendTextMessage(sentTexts.last());
        }
        for (int size : {1, 1000, 100000, 1 << 20}) {
            sentBinaries << QByteArray(size, char(size % 251));
            client.sendBinaryMessage(sentBinaries.last());
        }
        QTRY_COMPARE_WITH_TIMEOUT(texts.size(), sentTexts.size(), 10000);
        QTRY_COMPARE_WITH_TIMEOUT(binaries.size(), sentBinaries.size(), 10000);
        QCOMPARE(texts, sentTexts);
        QVERIFY(binaries == sentBinaries);

        QSignalSpy disconnected(&client, &QWebSocket::disconnected);
        client.close();
        QTRY_COMPARE(disconnected.size(), 1); // may already be emitted inside close()
        QCOMPARE(client.closeCode(), QWebSocketProtocol::CloseCodeNormal);
        worker.runBlocking([&] { delete server; });
    }
};

int main(int argc, char **argv)
{
    // Installed before the application object exists, so the main thread
    // runs on it from the start.
    if (QAbstractEventDispatcher *tested = createTestedDispatcher())
        QCoreApplication::setEventDispatcher(tested);
    ::signal(SIGPIPE, SIG_IGN); // a write to a closed peer is an error return here, not the end
    QCoreApplication app(argc, argv);
    EventDispatcherTest test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_eventdispatcher.moc"
