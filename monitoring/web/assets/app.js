// starflow visualize: the little the pages need beyond HTML. Every page
// works without it.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // The task filters apply as soon as a menu changes; the text box on Enter.
  for (const sel of document.querySelectorAll("form.filters select")) {
    sel.addEventListener("change", () => sel.form.submit());
  }

  // A run still going can reload itself. The choice is kept across
  // reloads, and the scroll position with it.
  const live = document.getElementById("live");
  if (live && document.body.dataset.live) {
    const key = "starflow-live";
    live.checked = sessionStorage.getItem(key) === "1";
    const y = sessionStorage.getItem(key + "-y");
    if (live.checked && y) window.scrollTo(0, Number(y));
    let timer = null;
    const arm = () => {
      clearTimeout(timer);
      if (live.checked) {
        timer = setTimeout(() => {
          sessionStorage.setItem(key + "-y", String(window.scrollY));
          location.reload();
        }, 5000);
      }
    };
    live.addEventListener("change", () => {
      sessionStorage.setItem(key, live.checked ? "1" : "0");
      arm();
    });
    arm();
  }
});
