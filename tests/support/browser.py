"""The admin in a real browser: signing in through its form, reading a drawn chart and its
amounts' axis."""

import re

from tests.factories import PASSWORD

# What a chart holds and where it drew it: for every dataset, its label, its values, and
# whether each bar or point stands where the y scale puts its value.
READ_CHART = """(id) => {
  const canvas = document.getElementById(id);
  const chart = Chart.getChart(canvas);
  if (!chart) return null;
  const y = chart.scales.y;
  return {
    type: chart.config.type,
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((dataset, index) => ({
      label: dataset.label,
      data: dataset.data,
      drawn: chart.getDatasetMeta(index).data.map(
        (element, at) => Math.abs(element.y - y.getPixelForValue(dataset.data[at])) < 0.5),
    })),
    painted: (() => {
      const { width, height } = canvas;
      const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
      let count = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) count++;
      return count;
    })(),
  };
}"""


def sign_in(page, username: str) -> None:
    """Through the admin's own login form, as a person would."""
    page.goto("/admin/")
    assert "/admin/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form input[type=submit]")
    page.wait_for_url(re.compile(r".*/admin/$"))


def read_chart(page, canvas_id: str) -> dict:
    """What the chart on `canvas_id` holds, once the page's scripts have drawn it; checked to
    be painted, and each value drawn where the scale puts it."""
    page.wait_for_load_state()  # the scripts are deferred: they run before "load"
    chart = page.evaluate(READ_CHART, canvas_id)
    assert chart is not None, f"no chart drawn on #{canvas_id}"
    assert chart["painted"] > 1000, f"#{canvas_id} is blank"
    for dataset in chart["datasets"]:
        assert all(dataset["drawn"]), f"#{canvas_id} {dataset['label']}: not where its values say"
    return chart


def y_ticks(page, canvas_id: str) -> list[str]:
    """The labels the chart wrote along its amounts' axis."""
    return page.evaluate(
        "(id) => Chart.getChart(document.getElementById(id)).scales.y.ticks.map(t => t.label)",
        canvas_id,
    )
