import type { Theme } from 'vitepress';
import DefaultTheme from 'vitepress/theme';
import ExampleSource from './components/ExampleSource.vue';
import './custom.css';

/** The default theme plus the figure styles and the component that shows an example's own source. */
export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('ExampleSource', ExampleSource);
  },
} satisfies Theme;
