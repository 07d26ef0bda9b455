# Kernel speed and roofline fraction against m (activation rows), one series per kernel.
# gnuplot -e "data='report/kernels-m-hot.dat'; out='x.png'; title='...'; n=N" plots/kernels_vs_m.gp
# data: N blocks, each a quoted series title, then rows "m gmacs roofline_percent".
set terminal pngcairo size 1300,620 font 'DejaVu Sans,11'
set output out
set multiplot layout 1,2 title title noenhanced
set logscale xy
set xlabel 'm (activation rows; 1 = decode)'
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
set key top left noenhanced font ',9'
set ylabel 'GMAC/s'
set title 'speed'
plot for [i=0:n-1] data index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1)
set ylabel 'weight GB/s / measured read bandwidth (%)'
set title 'fraction of the bandwidth roof'
unset key
plot for [i=0:n-1] data index i using 1:3 with linespoints lw 2 pt 7 title columnheader(1)
unset multiplot
