#pragma once

#include <QWidget>

class RateHistory;

// Messages per second (in and out) and live connections over the span of a
// RateHistory (five minutes), painted with the widget's palette so it reads
// in light and dark themes. Repaints once per new sample.
class RateChartWidget : public QWidget
{
    Q_OBJECT
public:
    explicit RateChartWidget(const RateHistory *history, QWidget *parent = nullptr);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    const RateHistory *m_history;
};
