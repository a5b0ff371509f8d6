#include "paletteiconengine.h"

#include <QGuiApplication>
#include <QPainter>
#include <QPalette>
#include <QSvgRenderer>

PaletteIconEngine::PaletteIconEngine(const QString &svgFile, Colouring colouring)
    : m_file(svgFile)
    , m_colouring(colouring)
    , m_renderer(std::make_shared<QSvgRenderer>(svgFile))
{
}

QIcon PaletteIconEngine::icon(const QString &name)
{
    return QIcon(new PaletteIconEngine(QStringLiteral(":/icons/%1.svg").arg(name)));
}

QIcon PaletteIconEngine::artwork(const QString &name)
{
    return QIcon(new PaletteIconEngine(QStringLiteral(":/icons/%1.svg").arg(name), Colouring::AsDrawn));
}

QImage PaletteIconEngine::render(const QSize &devicePixels, QIcon::Mode mode) const
{
    QImage image(devicePixels, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    if (!m_renderer->isValid() || devicePixels.isEmpty())
        return image;
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    // Keep the drawing square and centred in a non-square request.
    const int side = qMin(devicePixels.width(), devicePixels.height());
    const QRectF target((devicePixels.width() - side) / 2.0, (devicePixels.height() - side) / 2.0, side, side);
    m_renderer->render(&painter, target);

    const QPalette palette = QGuiApplication::palette();
    if (m_colouring == Colouring::FollowPalette) {
        QColor colour = palette.color(QPalette::Active, QPalette::WindowText);
        if (mode == QIcon::Disabled)
            colour = palette.color(QPalette::Disabled, QPalette::WindowText);
        else if (mode == QIcon::Selected)
            colour = palette.color(QPalette::Active, QPalette::HighlightedText);
        painter.setCompositionMode(QPainter::CompositionMode_SourceIn);
        painter.fillRect(image.rect(), colour);
    } else if (mode == QIcon::Disabled) {
        painter.setCompositionMode(QPainter::CompositionMode_DestinationIn);
        painter.fillRect(image.rect(), QColor(0, 0, 0, 110)); // fade: only alpha is used
    }
    return image;
}

QPixmap PaletteIconEngine::scaledPixmap(const QSize &size, QIcon::Mode mode, QIcon::State, qreal scale)
{
    const QSize devicePixels = size * scale;
    const QPalette palette = QGuiApplication::palette();
    const QString cacheKey = QStringLiteral("%1x%2@%3/%4/%5")
                                 .arg(devicePixels.width())
                                 .arg(devicePixels.height())
                                 .arg(scale)
                                 .arg(int(mode))
                                 .arg(m_colouring == Colouring::FollowPalette ? palette.cacheKey() : 0);
    auto it = m_cache.constFind(cacheKey);
    if (it != m_cache.cend())
        return *it;
    if (m_cache.size() > 64)
        m_cache.clear();
    QPixmap pixmap = QPixmap::fromImage(render(devicePixels, mode));
    pixmap.setDevicePixelRatio(scale);
    m_cache.insert(cacheKey, pixmap);
    return pixmap;
}

QPixmap PaletteIconEngine::pixmap(const QSize &size, QIcon::Mode mode, QIcon::State state)
{
    return scaledPixmap(size, mode, state, 1.0);
}

void PaletteIconEngine::paint(QPainter *painter, const QRect &rect, QIcon::Mode mode, QIcon::State state)
{
    const qreal scale = painter->device() ? painter->device()->devicePixelRatioF() : 1.0;
    painter->drawPixmap(rect, scaledPixmap(rect.size(), mode, state, scale));
}

QSize PaletteIconEngine::actualSize(const QSize &size, QIcon::Mode, QIcon::State)
{
    return size;
}

QIconEngine *PaletteIconEngine::clone() const
{
    auto *copy = new PaletteIconEngine(*this);
    return copy;
}

QString PaletteIconEngine::key() const
{
    return QStringLiteral("PaletteIconEngine");
}

bool PaletteIconEngine::isNull()
{
    return !m_renderer->isValid();
}
