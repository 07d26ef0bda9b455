# Which kernel to pick on one CPU: GMAC/s against bits per weight, coloured by log10 of the
# logit NMSE; kernels without accuracy data in grey, labelled so.
# gnuplot -e "data='report/choice-1.dat'; out='x.png'; title='...'; n=N" plots/kernel_choice.gp
# data: rows "bits_per_weight gmacs log10_nmse has_nmse(0|1) label label_x label_y left(0|1)";
# n = rows with has_nmse. The report places the labels (spread within a column of kernels of one
# width, on the left when the next column is close); a grey line ties each label to its point.
set terminal pngcairo size 1100,620 font 'DejaVu Sans,11'
set output out
set title title noenhanced
set xlabel 'bits per weight (scale included)'
set ylabel 'GMAC/s at m = 1'
set logscale xy
set xrange [0.6:200] # room for labels left of the 1.67-bit column
set offsets 0, 0, graph 0.2, graph 0.2
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
set key top right noenhanced
set cblabel 'log10 NMSE of the logits'
set palette defined (0 '#1a9850', 1 '#fee08b', 2 '#d73027')
leaders = "data using 1:2:($6 - $1):($7 - $2) with vectors nohead lc rgb '#aaaaaa' notitle"
labels = "data using ($8 > 0 ? 1/0 : $6):7:5 with labels left offset char 0.3,0 font ',9' noenhanced notitle, "\
  . "data using ($8 > 0 ? $6 : 1/0):7:5 with labels right offset char -0.3,0 font ',9' noenhanced notitle"
if (n > 0) {
  plot @leaders, \
       data using 1:($4 > 0 ? $2 : 1/0):3 with points pt 7 ps 2.5 lc palette title 'kernel (colour: logit error)', \
       data using 1:($4 > 0 ? 1/0 : $2) with points pt 6 ps 2.5 lc rgb '#888888' title 'no accuracy data', \
       @labels
} else {
  unset colorbox
  plot @leaders, \
       data using 1:2 with points pt 6 ps 2.5 lc rgb '#888888' title 'no accuracy data', \
       @labels
}
