"""Sphinx-gallery image scraper for iortmc's figures (importable by name, so the config pickles)."""


def figure_scraper(block, block_vars, gallery_conf, **kwargs):
    """Collect the matplotlib Figures that a gallery script made since the last block.

    iortmc.plot draws on Figure objects without pyplot, so the stock pyplot scraper would not see them:
    this one looks for Figures among the script's variables (and pyplot's, if a script uses it).
    """
    from matplotlib.figure import Figure
    from sphinx_gallery.scrapers import figure_rst

    seen = block_vars.setdefault("_iortmc_seen", [])   # the figures themselves: ids could be reused
    figs = [v for v in block_vars["example_globals"].values() if isinstance(v, Figure)]
    try:
        import matplotlib.pyplot as plt

        figs += [plt.figure(n) for n in plt.get_fignums()]
        plt.close("all")
    except ImportError:  # pragma: no cover
        pass
    paths = []
    for fig in figs:
        if any(f is fig for f in seen):
            continue
        seen.append(fig)
        path = next(block_vars["image_path_iterator"])
        fig.savefig(path, dpi=96)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"])
