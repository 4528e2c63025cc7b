// The reports page's one script: draws each chart from the ECharts options the server embedded
// as JSON (no inline script runs, see ReportsPageModule), and redraws it when its box resizes.
'use strict';

(() => {
  const embedded = document.getElementById('report-chart-options');
  if (!embedded || typeof echarts === 'undefined') return;
  const options = JSON.parse(embedded.textContent);
  for (const element of document.querySelectorAll('[data-chart]')) {
    const option = options[element.dataset.chart];
    if (!option) continue;
    // The words shown without script make way for the chart.
    element.replaceChildren();
    const chart = echarts.init(element);
    chart.setOption(option);
    new ResizeObserver(() => chart.resize()).observe(element);
  }
})();
