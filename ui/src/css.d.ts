// esbuild bundles the CSS a module imports into the page's stylesheet (build.mjs).
declare module '*.css';
