/**
 * SanxiangStudio: the process designers' modeler bundle.
 *
 * Built by ../build.mjs into webapp/static/vendor/studio/studio.js (IIFE,
 * global `SanxiangStudio`) and studio.css. Nothing here needs eval or
 * inline styles, so the bundle runs under the app's strict CSP.
 */

import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdleDescriptor from 'camunda-bpmn-moddle/resources/camunda.json';

import DmnModeler from 'dmn-js/lib/Modeler';

import zh from './zh.js';

// all CSS the modeler, the properties panel and dmn-js need, in cascade order;
// fonts are copied next to studio.css (the CSP has no data: fonts)
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression-controls.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn.css';
import './styles.css';

// marker classes, exported so pages can refer to them
export const MARKERS = {
  problem: 'has-problem',
  done: 'done',
  current: 'current',
  failed: 'failed',
  taken: 'taken',
  added: 'diff-added',
  changed: 'diff-changed'
};

const PROBLEM_OVERLAY = 'studio-problem';

const DICTIONARIES = { zh };


function resolveElement(target, what) {
  const el = typeof target === 'string' ? document.querySelector(target) : target;

  if (!el || el.nodeType !== 1) {
    throw new Error('SanxiangStudio: ' + what + ' must be an element or a selector');
  }

  return el;
}

/**
 * Build a translate function: dictionary look-up, English fallback,
 * {placeholder} replacement (same contract as bpmn-js' default translate).
 */
export function makeTranslate(dictionary) {
  const dict = dictionary || {};

  return function translate(template, replacements) {
    replacements = replacements || {};

    const translated = Object.prototype.hasOwnProperty.call(dict, template) ? dict[template] : template;

    return translated.replace(/{([^}]+)}/g, function(_, key) {
      return Object.prototype.hasOwnProperty.call(replacements, key) ? replacements[key] : '{' + key + '}';
    });
  };
}

function translateModule(language) {
  const dictionary = DICTIONARIES[language];

  if (!dictionary) {
    return null;
  }

  return { translate: [ 'value', makeTranslate(dictionary) ] };
}

// problem badge: top right corner of a shape, middle of a connection's
// middle segment (overlay positions are relative to the element's bounds)
function badgePosition(element) {
  const waypoints = element && element.waypoints;

  if (!waypoints || waypoints.length < 2) {
    return { top: -10, right: 10 };
  }

  const i = Math.floor((waypoints.length - 1) / 2);
  const a = waypoints[i], b = waypoints[i + 1];
  const minX = Math.min.apply(null, waypoints.map(p => p.x));
  const minY = Math.min.apply(null, waypoints.map(p => p.y));

  return {
    left: Math.round((a.x + b.x) / 2 - minX) - 10,
    top: Math.round((a.y + b.y) / 2 - minY) - 22
  };
}

function toIds(list) {
  if (list === null || list === undefined) {
    return [];
  }

  return (Array.isArray(list) ? list : [ list ]).filter(id => typeof id === 'string' && id);
}


/**
 * Open a BPMN diagram in the modeler with the Camunda 7 properties panel.
 *
 * @param {Object} options
 * @param {Element|string} options.canvas      container for the diagram
 * @param {Element|string} options.properties  container for the properties panel
 * @param {string} options.xml                 BPMN 2.0 XML
 * @param {string} [options.language]          "zh" for Chinese labels, English otherwise
 *
 * @return {Promise<BpmnEditor>}
 */
export async function openBpmn(options) {
  options = options || {};

  const canvasEl = resolveElement(options.canvas, 'canvas');
  const propertiesEl = resolveElement(options.properties, 'properties');

  const additionalModules = [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule
  ];

  const translate = translateModule(options.language);

  if (translate) {
    additionalModules.push(translate);
  }

  const modeler = new BpmnModeler({
    container: canvasEl,
    propertiesPanel: { parent: propertiesEl },
    additionalModules,
    moddleExtensions: { camunda: camundaModdleDescriptor }
  });

  let result;

  try {
    result = await modeler.importXML(options.xml);
  } catch (err) {
    modeler.destroy();
    throw err;
  }

  const canvas = modeler.get('canvas');

  canvas.zoom('fit-viewport');

  return new BpmnEditor(modeler, result.warnings || []);
}


class BpmnEditor {

  constructor(modeler, warnings) {
    this.modeler = modeler;
    this.warnings = warnings;

    this._canvas = modeler.get('canvas');
    this._registry = modeler.get('elementRegistry');
    this._overlays = modeler.get('overlays');
    this._eventBus = modeler.get('eventBus');

    // marker class -> [ element ids ]
    this._marked = {};
  }

  /**
   * @return {Promise<string>} the diagram as formatted BPMN 2.0 XML
   */
  async getXml() {
    const { xml } = await this.modeler.saveXML({ format: true });

    return xml;
  }

  _setMarkers(cls, ids) {
    const previous = this._marked[cls] || [];

    previous.forEach(id => {
      if (this._registry.get(id)) {
        this._canvas.removeMarker(id, cls);
      }
    });

    const applied = [];

    ids.forEach(id => {
      if (this._registry.get(id) && applied.indexOf(id) === -1) {
        this._canvas.addMarker(id, cls);
        applied.push(id);
      }
    });

    this._marked[cls] = applied;

    return applied;
  }

  /**
   * Mark elements that have problems; replaces previous marks.
   *
   * @param {Array<{element: string, message: string}>} problems
   * @return {Array<string>} ids of the elements actually marked
   */
  markProblems(problems) {
    const byElement = new Map();

    (problems || []).forEach(problem => {
      if (!problem || typeof problem.element !== 'string') {
        return;
      }

      if (!byElement.has(problem.element)) {
        byElement.set(problem.element, []);
      }

      byElement.get(problem.element).push(problem.message ? String(problem.message) : '');
    });

    this._overlays.remove({ type: PROBLEM_OVERLAY });

    const applied = this._setMarkers(MARKERS.problem, Array.from(byElement.keys()));

    applied.forEach(id => {
      const messages = byElement.get(id);
      const badge = document.createElement('div');

      badge.className = 'studio-problem-badge';
      badge.textContent = String(messages.length);
      badge.title = messages.filter(Boolean).join('\n');
      badge.setAttribute('role', 'img');
      badge.setAttribute('aria-label', badge.title || String(messages.length));

      this._overlays.add(id, PROBLEM_OVERLAY, {
        position: badgePosition(this._registry.get(id)),
        html: badge
      });
    });

    return applied;
  }

  /**
   * Select an element and scroll it into view.
   *
   * @param {string|null} elementId
   * @return {boolean} whether the element exists
   */
  select(elementId) {
    const selection = this.modeler.get('selection');

    if (!elementId) {
      selection.select(null);
      return true;
    }

    const element = this._registry.get(elementId);

    if (!element) {
      return false;
    }

    // scroll first: it switches to the element's plane (collapsed sub-process) if needed
    this._canvas.scrollToElement(element);
    selection.select(element);

    return true;
  }

  /**
   * @param {function(string|null)} callback called with the id of the
   *        (first) selected element, or null when the selection is empty
   * @return {function()} unsubscribe
   */
  onSelect(callback) {
    const listener = event => {
      const selected = event.newSelection || [];

      callback(selected.length ? selected[0].id : null);
    };

    this._eventBus.on('selection.changed', listener);

    return () => this._eventBus.off('selection.changed', listener);
  }

  /**
   * Show a (dry) run's path; calling again replaces it, empty lists clear it.
   *
   * @param {{done?: string[], current?: string[], failed?: string|null, flows?: string[]}} path
   */
  markPath(path) {
    path = path || {};

    return {
      done: this._setMarkers(MARKERS.done, toIds(path.done)),
      current: this._setMarkers(MARKERS.current, toIds(path.current)),
      failed: this._setMarkers(MARKERS.failed, toIds(path.failed)),
      taken: this._setMarkers(MARKERS.taken, toIds(path.flows))
    };
  }

  /**
   * Show a diff against another version; removed elements are not in this
   * diagram and are ignored.
   *
   * @param {{added?: string[], removed?: string[], changed?: string[]}} changes
   */
  markChanges(changes) {
    changes = changes || {};

    return {
      added: this._setMarkers(MARKERS.added, toIds(changes.added)),
      changed: this._setMarkers(MARKERS.changed, toIds(changes.changed))
    };
  }

  /**
   * @param {function(Object)} callback called on every command stack change
   * @return {function()} unsubscribe
   */
  onChange(callback) {
    const listener = event => callback(event);

    this._eventBus.on('commandStack.changed', listener);

    return () => this._eventBus.off('commandStack.changed', listener);
  }

  destroy() {
    if (this.modeler) {
      this.modeler.destroy();
      this.modeler = null;
    }
  }
}


/**
 * Open a DMN file in the dmn-js editor, showing its (first) decision table.
 *
 * @param {Object} options
 * @param {Element|string} options.container
 * @param {string} options.xml        DMN 1.3 XML
 * @param {string} [options.decision] id of the decision to open
 *
 * @return {Promise<DmnEditor>}
 */
export async function openDmn(options) {
  options = options || {};

  const container = resolveElement(options.container, 'container');

  const modeler = new DmnModeler({ container });

  let result;

  try {
    // do not open the default (DRD) view: open the decision table directly
    result = await modeler.importXML(options.xml, { open: false });

    const views = modeler.getViews();
    const view =
      views.find(v => v.type === 'decisionTable' && (!options.decision || v.element.id === options.decision)) ||
      views.find(v => v.type !== 'drd') ||
      views[0];

    if (!view) {
      throw new Error('SanxiangStudio: no decision to show');
    }

    await modeler.open(view);
  } catch (err) {
    modeler.destroy();
    throw err;
  }

  return new DmnEditor(modeler, result.warnings || []);
}


class DmnEditor {

  constructor(modeler, warnings) {
    this.modeler = modeler;
    this.warnings = warnings;
  }

  /**
   * @return {Promise<string>} the DMN as formatted XML
   */
  async getXml() {
    const { xml } = await this.modeler.saveXML({ format: true });

    return xml;
  }

  destroy() {
    if (this.modeler) {
      this.modeler.destroy();
      this.modeler = null;
    }
  }
}
