#include "trayicon.h"

#include "paletteiconengine.h"

#include <QAction>
#include <QGuiApplication>
#include <QMenu>
#include <QPainter>
#include <QWidget>

TrayIcon::TrayIcon(QWidget *window, QObject *parent)
    : QSystemTrayIcon(parent)
    , m_window(window)
    , m_menu(std::make_unique<QMenu>())
{
    m_toggleWindow = m_menu->addAction(tr("&Hide Window"), this, &TrayIcon::toggleWindow);
    m_menu->addSeparator();
    m_quit = m_menu->addAction(PaletteIconEngine::icon(QStringLiteral("quit")), tr("&Quit Switchboard"), this,
                               &TrayIcon::quitRequested);
    connect(m_menu.get(), &QMenu::aboutToShow, this, [this] {
        m_toggleWindow->setText(m_window->isVisible() ? tr("&Hide Window") : tr("&Show Window"));
    });
    setContextMenu(m_menu.get());
    connect(this, &QSystemTrayIcon::activated, this, [this](ActivationReason reason) {
        if (reason == Trigger || reason == DoubleClick)
            toggleWindow();
    });
    setConnectionCount(0);
}

TrayIcon::~TrayIcon() = default;

void TrayIcon::setConnectionCount(int connections)
{
    if (connections == m_connections)
        return;
    m_connections = connections;
    refresh();
    updateToolTip();
}

void TrayIcon::setListeners(const QString &listeners)
{
    m_listeners = listeners;
    updateToolTip();
}

void TrayIcon::refresh()
{
    const int side = 64;
    const qreal dpr = qGuiApp->devicePixelRatio();
    QPixmap pixmap = PaletteIconEngine::artwork(QStringLiteral("switchboard")).pixmap(QSize(side, side), dpr);
    if (m_connections > 0) {
        QPainter p(&pixmap);
        p.setRenderHint(QPainter::Antialiasing);
        const QPalette pal = QGuiApplication::palette();
        const QString text = m_connections > 99 ? QStringLiteral("99+") : QString::number(m_connections);
        QFont font = p.font();
        font.setBold(true);
        font.setPixelSize(text.size() > 2 ? 20 : 26);
        p.setFont(font);
        const QRectF badge(side * 0.40, side * 0.40, side * 0.60, side * 0.60);
        p.setPen(QPen(pal.color(QPalette::Window), 3));
        p.setBrush(pal.color(QPalette::Highlight));
        p.drawEllipse(badge.adjusted(1.5, 1.5, -1.5, -1.5));
        p.setPen(pal.color(QPalette::HighlightedText));
        p.drawText(badge, Qt::AlignCenter, text);
    }
    setIcon(QIcon(pixmap));
}

void TrayIcon::updateToolTip()
{
    QString tip = m_connections == 1 ? tr("Switchboard: 1 connection")
                                     : tr("Switchboard: %1 connections").arg(qMax(0, m_connections));
    tip += QLatin1Char('\n') + (m_listeners.isEmpty() ? tr("Server not running") : m_listeners);
    setToolTip(tip);
}

void TrayIcon::toggleWindow()
{
    if (m_window->isVisible() && !m_window->isMinimized()) {
        m_window->hide();
        return;
    }
    m_window->showNormal();
    m_window->raise();
    m_window->activateWindow();
}
