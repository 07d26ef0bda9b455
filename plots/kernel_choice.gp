# Which kernel to pick on one CPU: GMAC/s against bits per weight, coloured by log10 of the
# logit NMSE; kernels without accuracy data in grey, labelled so.
# gnuplot -e "data='report/choice-1.dat'; out='x.png'; title='...'; n=N" plots/kernel_choice.gp
# data: rows "bits_per_weight gmacs log10_nmse has_nmse(0|1) label"; n = rows with has_nmse.
set terminal pngcairo size 1100,620 font 'DejaVu Sans,11'
set output out
set title title noenhanced
set xlabel 'bits per weight (scale included)'
set ylabel 'GMAC/s at m = 1'
set logscale xy
set xrange [1:200]
set offsets 0, 0, graph 0.2, graph 0.2
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
set key top right noenhanced
set cblabel 'log10 NMSE of the logits'
set palette defined (0 '#1a9850', 1 '#fee08b', 2 '#d73027')
if (n > 0) {
  plot data using 1:($4 > 0 ? $2 : 1/0):3 with points pt 7 ps 2.5 lc palette title 'kernel (colour: logit error)', \
       data using 1:($4 > 0 ? 1/0 : $2) with points pt 6 ps 2.5 lc rgb '#888888' title 'no accuracy data', \
       data using 1:2:5 with labels left offset char 1.5,0.4 font ',9' noenhanced notitle
} else {
  unset colorbox
  plot data using 1:2 with points pt 6 ps 2.5 lc rgb '#888888' title 'no accuracy data', \
       data using 1:2:5 with labels left offset char 1.5,0.4 font ',9' noenhanced notitle
}
