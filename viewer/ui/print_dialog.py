"""The print dialog: printer, film options the printer allows, live preview, job queue, status.

Film composition and the protocol live in :mod:`viewer.film` and :mod:`viewer.net` (joined by
:mod:`viewer.tasks.print_films`); this module only collects options, shows the preview and
runs queued jobs (:func:`viewer.tasks.print_films.print_films`) one at a time, each in a
:class:`viewer.ui.workers.Worker` on a single-thread pool (it never touches a widget).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Sequence

from PySide6.QtCore import QSettings, Qt, QThreadPool, QTimer
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QListWidget, QListWidgetItem, QMessageBox, QPlainTextEdit,
                               QPushButton, QSpinBox, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from viewer.errors import ViewerError
from viewer.film.enums import FilmOrientation, Polarity, PresentationLUTShape, PrintPriority
from viewer.film.profile import PrinterProfile
from viewer.film.spec import FilmBoxSpec, FilmSessionSpec, ImageBoxSpec
from viewer.tasks.print_films import film_annotations
from viewer.tasks.print_preview import compose_preview, print_depth, printer_profiles, select_images
from viewer.tasks.print_render import ImageRef, render_for_print
from viewer.tasks.print_report import PrintReport
from viewer.ui.film_preview import FilmPreview
from viewer.ui.print_queue import PrintQueue
from viewer.ui.workers import Worker

log = logging.getLogger(__name__)

_DEFAULT = "(printer default)"
_UNSUPPORTED = "(not supported)"
#: Values offered when a profile does not list what its printer accepts (PS3.3 C.13.3 defined terms).
_COMMON = {
    "display_formats": ["STANDARD\\1,1", "STANDARD\\1,2", "STANDARD\\2,2", "STANDARD\\2,3", "STANDARD\\3,3",
                        "STANDARD\\3,4", "STANDARD\\4,4", "STANDARD\\4,5", "STANDARD\\5,5", "ROW\\2,1", "COL\\2,1"],
    "film_sizes": ["14INX17IN", "8INX10IN", "10INX12IN", "11INX14IN", "14INX14IN", "24CMX30CM", "A4", "A3"],
    "medium_types": ["BLUE FILM", "CLEAR FILM", "PAPER"],
    "film_destinations": ["MAGAZINE", "PROCESSOR"],
    "magnification_types": ["REPLICATE", "BILINEAR", "CUBIC", "NONE"],
    "smoothing_types": [], "resolution_ids": ["STANDARD", "HIGH"],
    "border_densities": ["BLACK", "WHITE"], "empty_image_densities": ["BLACK", "WHITE"],
    "configuration_information": [],
}


# ---------------------------------------------------------------------------- dialog
class PrintDialog(QDialog):
    """Print a list of images on a DICOM printer.

    Parameters
    ----------
    images : sequence of (path, frame_index) or ImageRef
        The images on offer (e.g. the current series), in order; an
        :class:`~viewer.tasks.print_render.ImageRef` also carries the view (window, crop,
        rotation) the user sees.
    profiles : dict of PrinterProfile, optional
        Printers by name (default: :func:`viewer.film.profile.load_profiles`).
    current : int
        Index into ``images`` of the image on screen ("current image" selection).
    window : (center, width), optional
        The window the user sees, applied to every printed image.
    pool : QThreadPool, optional
        Not used any more: jobs run in the application's print queue.
    queue : PrintQueue, optional
        The application's print queue (default :meth:`PrintQueue.instance`); jobs keep
        running there when the dialog closes.
    """

    def __init__(self, images: Sequence[tuple[str, int] | ImageRef], profiles: dict[str, PrinterProfile] | None = None,
                 parent: QWidget | None = None, *, current: int = 0, window: tuple[float, float] | None = None,
                 pool: QThreadPool | None = None, queue: PrintQueue | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Print")
        self.images = [img if isinstance(img, ImageRef) else ImageRef(str(img[0]), int(img[1]), window=window)
                       for img in images]
        self.current = current
        self.profiles = dict(profiles) if profiles is not None else printer_profiles()
        self.queue = queue or PrintQueue.instance(pool=pool)
        #: ids of the jobs queued from this dialog
        self.jobs: list[int] = []
        self.reports: dict[int, PrintReport] = {}
        self.errors: dict[int, str] = {}
        self.queue.progress.connect(self._on_queue_progress)
        self.queue.job_done.connect(self._on_queue_done)
        self.queue.job_failed.connect(self._on_queue_failed)
        #: bound of every wait for the printer, seconds
        self.timeout = 30.0
        self._render_cache: dict[tuple[Any, ...], ImageBoxSpec] = {}
        self._films: list[Any] = []
        self._timer = QTimer(self, singleShot=True, interval=80)
        self._timer.timeout.connect(self.update_preview)
        self._build()
        self._restore_choices()
        self._on_printer_changed()
        last_layout = str(QSettings().value("print/layout", "") or "")
        if last_layout and self.layout_combo.findText(last_layout) >= 0:
            self.layout_combo.setCurrentText(last_layout)

    # ------------------------------------------------------------------ building
    def _combo(self, editable: bool = False) -> QComboBox:
        c = QComboBox()
        c.setEditable(editable)
        c.currentTextChanged.connect(self._schedule)
        return c

    def _build(self) -> None:
        self.printer_combo = QComboBox()
        self.printer_combo.addItems(sorted(self.profiles))
        self.printer_combo.currentTextChanged.connect(self._on_printer_changed)
        self.host_edit, self.aet_edit = QLineEdit(), QLineEdit()
        self.port_spin = QSpinBox(maximum=65535, minimum=1)
        edit_btn = QPushButton("Edit printer…")
        edit_btn.clicked.connect(self.edit_profile)
        add_btn = QPushButton("Add printer…")
        add_btn.clicked.connect(self.add_printer)
        printer_box = QGroupBox("Printer")
        f = QFormLayout(printer_box)
        f.addRow("Profile", self.printer_combo)
        f.addRow("Host", self.host_edit)
        f.addRow("Port", self.port_spin)
        f.addRow("Called AE", self.aet_edit)
        printer_buttons = QHBoxLayout()
        printer_buttons.addWidget(add_btn)
        printer_buttons.addWidget(edit_btn)
        f.addRow(printer_buttons)
        self.printer_info = QLabel()
        self.printer_info.setWordWrap(True)
        f.addRow(self.printer_info)

        self.layout_combo = self._combo(editable=True)
        self.orientation_combo = self._combo()
        self.orientation_combo.addItems([o.value for o in FilmOrientation])
        self.orientation_combo.currentTextChanged.connect(self._refill_layouts)
        self.film_size_combo, self.medium_combo, self.destination_combo = self._combo(), self._combo(), self._combo()
        self.magnification_combo, self.smoothing_combo = self._combo(), self._combo()
        self.border_combo, self.empty_combo, self.config_combo = self._combo(), self._combo(), self._combo()
        self.resolution_combo = self._combo()
        self.min_density_spin = QSpinBox(minimum=0, maximum=500)
        self.max_density_spin = QSpinBox(minimum=0, maximum=500)
        for s in (self.min_density_spin, self.max_density_spin):
            s.setSpecialValueText(_DEFAULT)
            s.valueChanged.connect(self._schedule)
        self.trim_combo = self._combo()
        self.copies_spin = QSpinBox(minimum=1, maximum=99)
        self.priority_combo = self._combo()
        self.priority_combo.addItems([_DEFAULT] + [p.value for p in PrintPriority])
        self.label_edit = QLineEdit()
        film_tab = QWidget()
        ff = QFormLayout(film_tab)
        w: QWidget
        for label, w in (("Layout", self.layout_combo), ("Orientation", self.orientation_combo),
                         ("Film size", self.film_size_combo), ("Magnification", self.magnification_combo),
                         ("Smoothing", self.smoothing_combo), ("Border density", self.border_combo),
                         ("Empty image density", self.empty_combo), ("Min density", self.min_density_spin),
                         ("Max density", self.max_density_spin), ("Trim", self.trim_combo),
                         ("Configuration", self.config_combo), ("Resolution", self.resolution_combo)):
            ff.addRow(label, w)
        session_tab = QWidget()
        sf = QFormLayout(session_tab)
        for label, w in (("Copies", self.copies_spin), ("Priority", self.priority_combo),
                         ("Medium", self.medium_combo), ("Destination", self.destination_combo),
                         ("Label", self.label_edit)):
            sf.addRow(label, w)

        self.selection_combo = self._combo()
        self.selection_combo.addItems(["all", "current", "range"])
        n = max(len(self.images), 1)
        self.range_start, self.range_stop = QSpinBox(minimum=1, maximum=n), QSpinBox(minimum=1, maximum=n, value=n)
        self.range_interval = QSpinBox(minimum=1, maximum=n)
        for s in (self.range_start, self.range_stop, self.range_interval):
            s.valueChanged.connect(self._schedule)
        self.bits_combo = self._combo()
        self.bits_combo.addItems(["12", "8"])
        self.polarity_combo = self._combo()
        self.polarity_combo.addItems([p.value for p in Polarity])
        self.plut_combo = self._combo()
        self.plut_combo.addItems(["IDENTITY", "LIN OD", "none"])
        self.color_check, self.true_size_check = QCheckBox("Color"), QCheckBox("True size")
        self.burn_in_check = QCheckBox("Burn in patient / image text")
        self.marks_check = QCheckBox("Burn in measurements and annotations")
        self.marks_check.setToolTip("Drawn at film resolution, as the viewport shows them")
        self.marks_check.setEnabled(any(img.marks for img in self.images))
        self.overlays_check = QCheckBox("Burn in overlays")
        self.overlays_check.setChecked(any(img.overlays for img in self.images))
        for c in (self.color_check, self.true_size_check, self.burn_in_check, self.marks_check, self.overlays_check):
            c.toggled.connect(self._schedule)
        self.annotation_edits = [QLineEdit() for _ in range(4)]
        for e in self.annotation_edits:
            e.setPlaceholderText("text, or {patient} {id} {date} {institution} {series} {page}/{pages}")
            e.textChanged.connect(self._schedule)
        images_tab = QWidget()
        imf = QFormLayout(images_tab)
        rng = QHBoxLayout()
        for w in (self.range_start, self.range_stop, QLabel("every"), self.range_interval):
            rng.addWidget(w)
        imf.addRow("Images", self.selection_combo)
        imf.addRow("Range", rng)
        imf.addRow("Bits", self.bits_combo)
        imf.addRow("Polarity", self.polarity_combo)
        imf.addRow("Presentation LUT", self.plut_combo)
        imf.addRow(self.color_check)
        imf.addRow(self.true_size_check)
        imf.addRow(self.burn_in_check)
        imf.addRow(self.marks_check)
        imf.addRow(self.overlays_check)
        for i, e in enumerate(self.annotation_edits, start=1):
            imf.addRow(f"Annotation {i}", e)

        tabs = QTabWidget()
        tabs.addTab(film_tab, "Film")
        tabs.addTab(session_tab, "Session")
        tabs.addTab(images_tab, "Images")
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(printer_box)
        lv.addWidget(tabs)

        self.preview = FilmPreview()
        self.page_spin = QSpinBox(minimum=1, maximum=1)
        self.page_spin.valueChanged.connect(self._show_page)
        self.page_label = QLabel()
        self.warning_label = QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #b36b00")
        mid = QWidget()
        mv = QVBoxLayout(mid)
        pages = QHBoxLayout()
        pages.addWidget(QLabel("Film"))
        pages.addWidget(self.page_spin)
        pages.addWidget(self.page_label)
        pages.addStretch(1)
        mv.addLayout(pages)
        mv.addWidget(self.preview, 1)
        mv.addWidget(self.warning_label)

        self.queue_list = QListWidget()
        self.status_view = QPlainTextEdit(readOnly=True)
        self.print_button = QPushButton("Print")
        self.print_button.clicked.connect(self.print_now)
        self.cancel_button = QPushButton("Cancel job")
        self.cancel_button.clicked.connect(self.cancel_selected)
        right = QWidget()
        rv = QVBoxLayout(right)
        rv.addWidget(QLabel("Queue"))
        rv.addWidget(self.queue_list, 1)
        rv.addWidget(self.cancel_button)
        rv.addWidget(QLabel("Status"))
        rv.addWidget(self.status_view, 2)

        split = QSplitter(Qt.Orientation.Horizontal)
        for w in (left, mid, right):
            split.addWidget(w)
        split.setStretchFactor(1, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        outer = QVBoxLayout(self)
        outer.addWidget(split, 1)
        outer.addWidget(buttons)
        self.resize(1200, 720)

    # ------------------------------------------------------------------ profile
    @property
    def profile(self) -> PrinterProfile:
        """The selected profile with the address fields applied."""
        base = self.profiles[self.printer_combo.currentText()]
        return dataclasses.replace(base, host=self.host_edit.text().strip() or base.host, port=self.port_spin.value(),
                                   ae_title=self.aet_edit.text().strip() or base.ae_title)

    def _fill(self, combo: QComboBox, values: list[str] | None, common: list[str], keep_default: bool = True) -> None:
        combo.blockSignals(True)
        combo.clear()
        if values == []:
            combo.addItem(_UNSUPPORTED)
            combo.setEnabled(False)
        else:
            combo.setEnabled(True)
            if keep_default:
                combo.addItem(_DEFAULT)
            combo.addItems(values if values is not None else common)
        combo.blockSignals(False)

    def _restore_choices(self) -> None:
        """Select the printer used last (QSettings ``print/printer``)."""
        last = str(QSettings().value("print/printer", "") or "")
        if last and self.printer_combo.findText(last) >= 0:
            self.printer_combo.blockSignals(True)
            self.printer_combo.setCurrentText(last)
            self.printer_combo.blockSignals(False)

    def _remember_choices(self) -> None:
        settings = QSettings()
        settings.setValue("print/printer", self.printer_combo.currentText())
        settings.setValue("print/layout", self.layout_combo.currentText())

    def _on_printer_changed(self, *_: Any) -> None:
        name = self.printer_combo.currentText()
        if not name:
            self.preview.set_film(None, "No printer profiles")
            return
        p = self.profiles[name]
        for w, v in ((self.host_edit, p.host), (self.aet_edit, p.ae_title)):
            w.blockSignals(True)
            w.setText(v)
            w.blockSignals(False)
        self.port_spin.setValue(p.port)
        orientation = self.orientation_combo.currentText() or "PORTRAIT"
        formats = p.allowed_display_formats(orientation)
        self._fill(self.layout_combo, formats, _COMMON["display_formats"], keep_default=False)
        for combo, attr in ((self.film_size_combo, "film_sizes"), (self.medium_combo, "medium_types"),
                            (self.destination_combo, "film_destinations"),
                            (self.magnification_combo, "magnification_types"),
                            (self.smoothing_combo, "smoothing_types"), (self.border_combo, "border_densities"),
                            (self.empty_combo, "empty_image_densities"), (self.resolution_combo, "resolution_ids"),
                            (self.config_combo, "configuration_information")):
            self._fill(combo, getattr(p, attr), _COMMON[attr])
        self._fill(self.trim_combo, ["YES", "NO"] if p.supports_trim else [], [])
        self.bits_combo.setCurrentText("12" if p.supports_12_bit else "8")
        self.bits_combo.setEnabled(p.supports_12_bit)
        self.plut_combo.setEnabled(p.presentation_lut is not None)
        self.color_check.setEnabled(p.color)
        if not p.color:
            self.color_check.setChecked(False)
        self.true_size_check.setEnabled(p.supports_requested_image_size)
        for i, e in enumerate(self.annotation_edits):
            ok = p.annotation_display_formats is None or (bool(p.annotation_display_formats)
                                                          and i < max(p.annotation_positions, 1))
            e.setEnabled(ok)
        caps = [f"{'12' if p.supports_12_bit else '8'} bit", "color" if p.color else "grayscale",
                f"P-LUT at {p.presentation_lut.replace('_', ' ')}" if p.presentation_lut else "no P-LUT"]
        self.printer_info.setText(f"{p.description or p.name}: " + ", ".join(caps))
        self._schedule()

    def _refill_layouts(self, orientation: str) -> None:
        """Landscape swaps columns and rows of the printer's STANDARD formats (DCMTK DisplayFormat)."""
        name = self.printer_combo.currentText()
        if not name:
            return
        keep = self.layout_combo.currentText()
        formats = self.profiles[name].allowed_display_formats(orientation or "PORTRAIT")
        self._fill(self.layout_combo, formats, _COMMON["display_formats"], keep_default=False)
        if self.layout_combo.findText(keep) >= 0:
            self.layout_combo.setCurrentText(keep)
        self._schedule()

    def edit_profile(self) -> None:
        """Edit the selected printer in a form (with "Test printer"); saved to the user's printer folder."""
        self._printer_form(self.profile.to_dict())

    def add_printer(self) -> None:
        """Add a printer in a form (with "Test printer")."""
        self._printer_form(None)

    def _printer_form(self, data: dict[str, Any] | None) -> None:
        from viewer.ui.printer_form import PrinterForm

        form = PrinterForm(data, self)
        self.printer_form = form
        if form.exec() != QDialog.DialogCode.Accepted:
            return
        self.profiles = printer_profiles()
        name = str(form.data["name"])
        self.log(f"saved printer profile {name} to {form.saved_path}")
        self.printer_combo.blockSignals(True)
        self.printer_combo.clear()
        self.printer_combo.addItems(sorted(self.profiles))
        self.printer_combo.blockSignals(False)
        self.printer_combo.setCurrentText(name)
        self._on_printer_changed()

    # ------------------------------------------------------------------ options
    @staticmethod
    def _value(combo: QComboBox) -> str | None:
        text = combo.currentText().strip()
        return None if not text or text in (_DEFAULT, _UNSUPPORTED) else text

    def film_box(self) -> FilmBoxSpec:
        """The film box attributes chosen."""
        return FilmBoxSpec(display_format=self.layout_combo.currentText().strip() or "STANDARD\\1,1",
                           orientation=FilmOrientation(self.orientation_combo.currentText() or "PORTRAIT"),
                           film_size=self._value(self.film_size_combo),
                           magnification=self._value(self.magnification_combo),
                           smoothing=self._value(self.smoothing_combo), border_density=self._value(self.border_combo),
                           empty_image_density=self._value(self.empty_combo),
                           min_density=self.min_density_spin.value() or None,
                           max_density=self.max_density_spin.value() or None, trim=self._value(self.trim_combo),
                           configuration_information=self._value(self.config_combo),
                           resolution_id=self._value(self.resolution_combo))

    def film_session(self) -> FilmSessionSpec:
        """The film session attributes chosen."""
        prio = self._value(self.priority_combo)
        return FilmSessionSpec(copies=self.copies_spin.value(), priority=PrintPriority(prio) if prio else None,
                               medium_type=self._value(self.medium_combo),
                               film_destination=self._value(self.destination_combo),
                               label=self.label_edit.text().strip() or None)

    def selected_refs(self) -> list[ImageRef]:
        """The images the selection names."""
        mode = self.selection_combo.currentText()
        idx = select_images(len(self.images), mode, current=self.current, start=self.range_start.value() - 1,
                            stop=self.range_stop.value() - 1, interval=self.range_interval.value())
        marks, overlays = self.marks_check.isChecked(), self.overlays_check.isChecked()
        return [dataclasses.replace(self.images[i], marks=self.images[i].marks if marks else (), overlays=overlays)
                for i in idx]

    def options(self) -> dict[str, Any]:
        """Keyword options of :func:`viewer.tasks.print_films.build_job`."""
        plut = self.plut_combo.currentText()
        return {"bits": int(self.bits_combo.currentText() or 8), "color": self.color_check.isChecked(),
                "polarity": Polarity(self.polarity_combo.currentText() or "NORMAL"),
                "true_size": self.true_size_check.isChecked(), "burn_in": self.burn_in_check.isChecked(),
                "annotations": {i: e.text() for i, e in enumerate(self.annotation_edits, start=1)
                                if e.isEnabled() and e.text().strip()},
                "presentation_lut": None if plut == "none" or not self.plut_combo.isEnabled()
                else PresentationLUTShape(plut)}

    # ------------------------------------------------------------------ preview
    def _schedule(self, *_: Any) -> None:
        self._timer.start()

    def _rendered(self, ref: ImageRef, bits: int, color: bool, true_size: bool, burn_in: bool,
                  polarity: Polarity) -> ImageBoxSpec:
        key = (ref, bits, color, true_size, burn_in)
        if key not in self._render_cache:
            self._render_cache[key] = render_for_print(ref, bits, color=color, true_size=true_size, burn_in=burn_in)
        return dataclasses.replace(self._render_cache[key], polarity=polarity)

    def update_preview(self) -> None:
        """Recompose the films from the current options and show the current film."""
        self._timer.stop()
        try:
            profile = self.profile
            opts = self.options()
            warnings: list[str] = []
            bits = print_depth(opts["bits"], profile, warnings)
            refs = self.selected_refs()
            # Only the images of shown films are rendered here; the job renders them again in its worker.
            imgs = [self._rendered(r, bits, opts["color"], opts["true_size"], opts["burn_in"], opts["polarity"])
                    for r in refs]
            self._films, more = compose_preview(imgs, self.film_box(), self.film_session(), profile,
                                                annotations=opts["annotations"],
                                                presentation_lut=opts["presentation_lut"])
            templates = {k: t for k, t in opts["annotations"].items() if "{" in t}
            if templates and self._films:
                # Annotation templates ({patient}, {date}, ...) filled from each film's first image, as printed.
                per = max(1, len(self._films[0].images))
                for n, film in enumerate(self._films):
                    filled = film_annotations(templates, refs[n * per:(n + 1) * per], n + 1, len(self._films))
                    film.annotations = {k: filled.get(k, v) for k, v in film.annotations.items()}
            self.warning_label.setText("\n".join(dict.fromkeys(warnings + more)))
            self.print_button.setEnabled(True)
        except ViewerError as exc:
            self._films = []
            self.warning_label.setText(str(exc))
            self.print_button.setEnabled(False)
            self.preview.set_film(None, str(exc))
            return
        self.page_spin.blockSignals(True)
        self.page_spin.setMaximum(max(len(self._films), 1))
        self.page_spin.blockSignals(False)
        self._show_page()

    def _show_page(self, *_: Any) -> None:
        n = self.page_spin.value()
        self.page_label.setText(f"of {len(self._films)}")
        self.preview.set_film(self._films[n - 1] if 0 < n <= len(self._films) else None)

    @property
    def films(self) -> list[Any]:
        """The films the preview shows (as the printer will get them)."""
        return list(self._films)

    # ------------------------------------------------------------------ jobs
    def log(self, text: str) -> None:
        """Append a line to the status view."""
        self.status_view.appendPlainText(text)

    def print_now(self) -> int | None:
        """Queue a print job with the current options in the application's print queue; returns its id
        (None if the options are bad). The job keeps running when the dialog closes."""
        try:
            refs = self.selected_refs()
        except ViewerError as exc:
            QMessageBox.warning(self, "Print", str(exc))
            return None
        profile = self.profile
        box, session, options = self.film_box(), self.film_session(), self.options()
        jid = self.queue.submit(refs, box, session, profile, options, timeout=self.timeout)
        self._remember_choices()
        self.jobs.append(jid)
        item = QListWidgetItem(f"job {jid}: {len(refs)} images to {profile.name} — queued")
        item.setData(Qt.ItemDataRole.UserRole, jid)
        self.queue_list.addItem(item)
        self.queue_list.setCurrentItem(item)
        self.log(f"job {jid}: queued ({len(refs)} images, {box.display_format})")
        return jid

    @property
    def workers(self) -> dict[int, Worker]:
        """The workers of this dialog's jobs still queued or running."""
        return {j: w for j, w in self.queue.workers.items() if j in self.jobs}

    def _on_queue_progress(self, jid: int, text: str) -> None:
        if jid in self.jobs:
            if "print job" in text:  # job events (PENDING, PRINTING, DONE, FAILURE) go to the status view
                self.log(f"job {jid}: {text}")
            self._set_state(jid, text)

    def _on_queue_done(self, jid: int, report: PrintReport) -> None:
        if jid in self.jobs:
            self._on_done(jid, report)

    def _on_queue_failed(self, jid: int, text: str) -> None:
        if jid in self.jobs:
            self._on_failed(jid, text)

    def _item(self, jid: int) -> QListWidgetItem | None:
        for i in range(self.queue_list.count()):
            it = self.queue_list.item(i)
            if it.data(Qt.ItemDataRole.UserRole) == jid:
                return it
        return None

    def _set_state(self, jid: int, state: str) -> None:
        it = self._item(jid)
        if it is not None:
            it.setText(it.text().rsplit(" — ", 1)[0] + f" — {state}")

    def _on_done(self, jid: int, report: PrintReport) -> None:
        self.reports[jid] = report
        self.log(f"job {jid}: printer {report.printer} status {report.printer_status or '?'} "
                 f"{report.printer_status_info}".rstrip())
        for f in report.films:
            info = f" ({f.execution_status_info})" if f.execution_status_info else ""
            self.log(f"job {jid}: film {f.number}: {f.image_boxes} image boxes, {f.execution_status}{info}")
        for a in report.adapted:
            self.log(f"job {jid}: adapted: {a}")
        for w in report.warnings:
            self.log(f"job {jid}: warning: {w}")
        self._set_state(jid, "Done" if report.ok else "Failed")

    def _on_failed(self, jid: int, text: str) -> None:
        self.errors[jid] = text
        self.log(f"job {jid}: FAILED: {text}")
        self._set_state(jid, "Cancelled" if text.startswith("cancelled") else "Failed")

    def cancel_selected(self) -> None:
        """Cancel the selected job (queued or running); the log says which films were printed."""
        it = self.queue_list.currentItem()
        if it is None:
            return
        jid = it.data(Qt.ItemDataRole.UserRole)
        self.queue.cancel(jid)
        self.log(f"job {jid}: cancel requested")

    @property
    def busy(self) -> bool:
        """Whether a job of this dialog is queued or running."""
        return bool(self.workers)

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Nothing to stop: the jobs belong to the application's print queue and outlive the dialog."""
