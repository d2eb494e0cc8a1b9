// The landing page (/): tells a visitor without a link what to do.

import { initLang } from './i18n.js';
import { byId } from './ui.js';

initLang(byId('lang'));
