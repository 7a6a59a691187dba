// Runs first, in the head: with JavaScript on, the navigation collapses behind its button;
// without it, the stylesheet keeps every link and "Sign out" in plain view.
document.documentElement.classList.remove("no-js");
