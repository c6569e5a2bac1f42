// Entry point of the bundle (build.mjs): mounts the app on #app.
import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { App } from './App.tsx';

render(<App />, document.getElementById('app')!);
