#include "ratechartwidget.h"

#include "displayformat.h"
#include "ratehistory.h"

#include <QPainter>
#include <QPainterPath>

#include <cmath>
#include <functional>

namespace {

// 1, 2 or 5 times a power of ten, at least `value` (and at least `minimum`).
double niceCeiling(double value, double minimum)
{
    value = qMax(value, minimum);
    const double exponent = std::floor(std::log10(value));
    const double base = std::pow(10.0, exponent);
    const double fraction = value / base;
    const double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
    return nice * base;
}

QColor mix(const QColor &a, const QColor &b, double t)
{
    return QColor::fromRgbF(float(a.redF() * (1 - t) + b.redF() * t), float(a.greenF() * (1 - t) + b.greenF() * t),
                            float(a.blueF() * (1 - t) + b.blueF() * t));
}

QColor withAlpha(QColor c, int alpha)
{
    c.setAlpha(alpha);
    return c;
}

struct Series
{
    QPen pen;
    std::function<double(const RateHistory::Sample &)> value;
    bool filled;
};

} // namespace

RateChartWidget::RateChartWidget(const RateHistory *history, QWidget *parent)
    : QWidget(parent)
    , m_history(history)
{
    setObjectName(QStringLiteral("rateChart"));
    setAttribute(Qt::WA_OpaquePaintEvent);
    connect(history, &RateHistory::sampleAdded, this, qOverload<>(&QWidget::update));
}

QSize RateChartWidget::sizeHint() const
{
    return QSize(640, fontMetrics().height() * 13);
}

QSize RateChartWidget::minimumSizeHint() const
{
    return QSize(240, fontMetrics().height() * 8);
}

void RateChartWidget::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    p.fillRect(rect(), pal.color(QPalette::Base));

    const QColor text = pal.color(QPalette::Text);
    const QColor secondary = mix(text, pal.color(QPalette::Base), 0.4);
    const QColor grid = mix(text, pal.color(QPalette::Base), 0.85);
    const QColor inColour = pal.color(QPalette::Highlight);
    const QColor outColour = mix(text, pal.color(QPalette::Base), 0.15);
    const QColor connColour = mix(pal.color(QPalette::Highlight), text, 0.45);

    const QFontMetrics fm = fontMetrics();
    const int line = fm.height();
    const int margin = line / 2;
    const QList<RateHistory::Sample> &samples = m_history->samples();
    const RateHistory::Sample latest = m_history->latest();

    // Legend with the latest values.
    int x = margin;
    const int legendY = margin;
    const auto legend = [&](const QPen &pen, const QString &label) {
        p.setPen(pen);
        p.drawLine(QPointF(x, legendY + line / 2.0), QPointF(x + line * 1.5, legendY + line / 2.0));
        x += line * 3 / 2 + 4;
        p.setPen(text);
        p.drawText(QPoint(x, legendY + fm.ascent()), label);
        x += fm.horizontalAdvance(label) + line;
    };
    // Out is dashed and drawn over In: with equal rates (an echo) both stay visible.
    const QPen inPen(inColour, 2.5, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    const QPen outPen(outColour, 1.5, Qt::DashLine, Qt::FlatCap, Qt::RoundJoin);
    const QPen connPen(connColour, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    legend(inPen, tr("In %1").arg(DisplayFormat::rate(latest.messagesInPerSecond)));
    legend(outPen, tr("Out %1").arg(DisplayFormat::rate(latest.messagesOutPerSecond)));
    legend(connPen, tr("Connections %1").arg(latest.connections));

    // Two stacked plots: messages/s (two thirds), connections (one third).
    double maxRate = 0;
    int maxConnections = 0;
    for (const RateHistory::Sample &s : samples) {
        maxRate = qMax(maxRate, qMax(s.messagesInPerSecond, s.messagesOutPerSecond));
        maxConnections = qMax(maxConnections, s.connections);
    }
    const double rateTop = niceCeiling(maxRate, 1);
    const double connTop = niceCeiling(maxConnections, 2);

    const QString widestLabel = DisplayFormat::count(quint64(qMax(rateTop, connTop)));
    const int left = margin + fm.horizontalAdvance(widestLabel) + margin;
    const int right = width() - margin;
    const int top = legendY + line + margin;
    const int bottom = height() - margin - line; // room for time labels
    const int gap = line;
    const int total = bottom - top - gap;
    if (total < 2 * line || right - left < 4 * line)
        return;
    const QRect ratePlot(QPoint(left, top), QPoint(right, top + total * 2 / 3));
    const QRect connPlot(QPoint(left, ratePlot.bottom() + gap), QPoint(right, bottom));

    const qint64 span = m_history->spanMs();
    const qint64 end = samples.isEmpty() ? 0 : samples.last().timeMs;
    const auto xOf = [&](const QRect &plot, qint64 t) {
        return plot.right() - double(end - t) / double(span) * plot.width();
    };

    const auto drawFrame = [&](const QRect &plot, double topValue, const QString &title) {
        p.setPen(QPen(grid, 1));
        for (int i = 0; i <= 4; ++i) {
            const double y = plot.bottom() - plot.height() * i / 4.0;
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        }
        for (int minute = 1; minute < span / 60000; ++minute) {
            const double gx = plot.right() - plot.width() * minute * 60000.0 / span;
            p.drawLine(QPointF(gx, plot.top()), QPointF(gx, plot.bottom()));
        }
        p.setPen(secondary);
        for (int i : {0, 2, 4}) {
            const double value = topValue * i / 4.0;
            const QString label = value == std::floor(value) ? DisplayFormat::count(quint64(value))
                                                             : QLocale().toString(value, 'f', 1);
            const double y = plot.bottom() - plot.height() * i / 4.0;
            p.drawText(QRectF(margin, y - line / 2.0, left - 2 * margin + margin / 2.0, line),
                       Qt::AlignRight | Qt::AlignVCenter, label);
        }
        p.setPen(text);
        p.drawText(plot.adjusted(6, 2, -6, -2), Qt::AlignLeft | Qt::AlignTop, title);
    };

    const auto drawSeries = [&](const QRect &plot, double topValue, const Series &series) {
        // A gap of more than two periods (the window was not polling) breaks the line.
        const qint64 maxStep = 2 * qint64(m_history->periodMs()) + m_history->periodMs() / 2;
        QPainterPath path;
        QList<QPainterPath> areas;
        QPainterPath area;
        qint64 previous = 0;
        bool drawing = false; // QPainterPath::isEmpty() is still true after a lone moveTo
        double firstX = 0, lastX = 0;
        const auto closeArea = [&] {
            if (area.elementCount() >= 2) { // a lone point has no area
                area.lineTo(lastX, plot.bottom());
                area.lineTo(firstX, plot.bottom());
                area.closeSubpath();
                areas << area;
            }
            area = QPainterPath();
        };
        for (const RateHistory::Sample &s : samples) {
            if (end - s.timeMs > span)
                continue;
            const double px = xOf(plot, s.timeMs);
            const double py = plot.bottom() - qMin(1.0, series.value(s) / topValue) * plot.height();
            if (!drawing || s.timeMs - previous > maxStep) {
                closeArea();
                path.moveTo(px, py);
                area.moveTo(px, py);
                firstX = px;
            } else {
                path.lineTo(px, py);
                area.lineTo(px, py);
            }
            lastX = px;
            previous = s.timeMs;
            drawing = true;
        }
        closeArea();
        if (series.filled) {
            for (const QPainterPath &a : areas)
                p.fillPath(a, withAlpha(series.pen.color(), 50));
        }
        p.setPen(series.pen);
        p.drawPath(path);
    };

    p.save();
    drawFrame(ratePlot, rateTop, tr("Messages per second"));
    drawFrame(connPlot, connTop, tr("Connections"));
    p.setClipRect(ratePlot.adjusted(0, -2, 0, 2));
    drawSeries(ratePlot, rateTop, {inPen, [](const RateHistory::Sample &s) { return s.messagesInPerSecond; }, true});
    drawSeries(ratePlot, rateTop, {outPen, [](const RateHistory::Sample &s) { return s.messagesOutPerSecond; }, false});
    p.setClipRect(connPlot.adjusted(0, -2, 0, 2));
    drawSeries(connPlot, connTop, {connPen, [](const RateHistory::Sample &s) { return double(s.connections); }, true});
    p.restore();

    // Time axis: whole minutes back from the latest sample.
    p.setPen(secondary);
    const int minutes = int(span / 60000);
    for (int minute = 0; minute <= minutes; ++minute) {
        const double tx = connPlot.right() - connPlot.width() * minute * 60000.0 / span;
        const QString label = minute == 0 ? tr("now") : tr("−%1 min").arg(minute);
        const int w = fm.horizontalAdvance(label);
        const double lx = qBound(double(connPlot.left()), tx - w / 2.0, double(connPlot.right() - w));
        p.drawText(QPointF(lx, bottom + fm.ascent() + 2), label);
    }
    if (samples.isEmpty()) {
        p.setPen(secondary);
        p.drawText(ratePlot, Qt::AlignCenter, tr("Collecting: one point per second"));
    }
}
