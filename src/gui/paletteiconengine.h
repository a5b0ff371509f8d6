#pragma once

#include <QHash>
#include <QIconEngine>
#include <QPixmap>

#include <memory>

class QSvgRenderer;

// Draws one of Switchboard's SVG icons at exactly the size asked for (sharp at
// any device pixel ratio). Monochrome icons are drawn in the palette's text
// colour of the moment, so they follow light and dark palettes; colour art
// (the application icon, status lights) is drawn as it is.
class PaletteIconEngine : public QIconEngine
{
public:
    enum class Colouring { FollowPalette, AsDrawn };

    explicit PaletteIconEngine(const QString &svgFile, Colouring colouring = Colouring::FollowPalette);

    // ":/icons/<name>.svg" in the palette's colours.
    static QIcon icon(const QString &name);
    // ":/icons/<name>.svg" with its own colours.
    static QIcon artwork(const QString &name);

    void paint(QPainter *painter, const QRect &rect, QIcon::Mode mode, QIcon::State state) override;
    QSize actualSize(const QSize &size, QIcon::Mode mode, QIcon::State state) override;
    QPixmap pixmap(const QSize &size, QIcon::Mode mode, QIcon::State state) override;
    QPixmap scaledPixmap(const QSize &size, QIcon::Mode mode, QIcon::State state, qreal scale) override;
    QIconEngine *clone() const override;
    QString key() const override;
    bool isNull() override;

private:
    QImage render(const QSize &devicePixels, QIcon::Mode mode) const;

    QString m_file;
    Colouring m_colouring;
    std::shared_ptr<QSvgRenderer> m_renderer;
    QHash<QString, QPixmap> m_cache;
};
