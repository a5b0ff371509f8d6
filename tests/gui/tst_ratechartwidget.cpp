// RateChartWidget paints its series in the palette's colours, light or dark.

#include "ratechartwidget.h"
#include "ratehistory.h"

#include <QApplication>
#include <QTest>

namespace {

int pixelsNear(const QImage &image, const QColor &colour)
{
    int n = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QColor c = image.pixelColor(x, y);
            if (qAbs(c.red() - colour.red()) + qAbs(c.green() - colour.green()) + qAbs(c.blue() - colour.blue()) < 30)
                ++n;
        }
    }
    return n;
}

} // namespace

class RateChartWidgetTest : public QObject
{
    Q_OBJECT

private slots:
    void paintsSeriesInPaletteColours_data()
    {
        QTest::addColumn<bool>("dark");
        QTest::newRow("light") << false;
        QTest::newRow("dark") << true;
    }

    void paintsSeriesInPaletteColours()
    {
        QFETCH(bool, dark);
        RateHistory history;
        RateChartWidget chart(&history);
        QPalette palette = chart.palette();
        if (dark) {
            palette.setColor(QPalette::Base, QColor(30, 30, 30));
            palette.setColor(QPalette::Text, QColor(230, 230, 230));
            palette.setColor(QPalette::Highlight, QColor(60, 140, 220));
        }
        chart.setPalette(palette);
        chart.resize(640, 260);

        const QImage empty = chart.grab().toImage();
        const QColor highlight = palette.color(QPalette::Highlight);
        const int before = pixelsNear(empty, highlight);

        // Two minutes of samples with a rising rate.
        quint64 in = 0, out = 0;
        const qint64 start = 1'700'000'000'000;
        for (int s = 0; s <= 120; ++s) {
            in += quint64(s * 10);
            out += quint64(s * 5);
            history.record(start + s * 1000, in, out, s / 10);
        }
        QCOMPARE(history.samples().size(), 120);
        const QImage drawn = chart.grab().toImage();
        QVERIFY2(pixelsNear(drawn, highlight) > before + 200, "the messages-in line is drawn");
        // Nothing is drawn over the left half (no data there yet): the plot background stays.
        const QColor base = palette.color(QPalette::Base);
        const QRect leftHalf(80, 60, 200, 60);
        QVERIFY(pixelsNear(drawn.copy(leftHalf), base) > leftHalf.width() * leftHalf.height() * 9 / 10);
    }
};

QTEST_MAIN(RateChartWidgetTest)
#include "tst_ratechartwidget.moc"
