// Light and dark themes: the system's choice until the user picks one.
export type Theme = "light" | "dark";

export function initialTheme(): Theme {
  const saved = localStorage.getItem("ferrocat.theme");
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem("ferrocat.theme", theme);
}
